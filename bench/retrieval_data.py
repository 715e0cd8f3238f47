"""Seeded multi-session conversations between personas, with evidence-labelled questions.

Each conversation is two personas chatting over ten dated sessions. Every persona states
ten facts about themselves (home city, job, pet, favourite food, hobby, two trips, three
events), one per session, in the first person, so who a fact is about is only known from
the speaker. Around the facts: greetings, reactions, follow-ups without keywords, small
talk and facts about third parties (a brother who moved to Chicago, a coworker who loves
sushi) that compete with the real facts.

Questions come in three categories:
- single-hop: names the person, needs one turn ("What is the name of Tom's beagle?");
- multi-hop: identifies the person only through another fact, in another session
  ("What city does the person who adopted a beagle live in?"); evidence is both turns;
- temporal: names the person and a month ("What did Maria do in March 2023?"); evidence is
  the turn from that month, whose date is known only from the session date.

Run it to print a sample: `python bench/retrieval_data.py`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

NAMES = ["Maria", "Tom", "Priya", "Kenji", "Olivia", "Samuel", "Amara", "Lucas", "Hannah",
         "Diego", "Fatima", "Erik", "Chloe", "Rafael", "Ingrid", "Malik"]
CITIES = ["Denver", "Lisbon", "Seattle", "Austin", "Toronto", "Melbourne", "Dublin", "Portland",
          "Chicago", "Barcelona", "Vancouver", "Boston", "Edinburgh", "Nairobi", "Montreal",
          "Copenhagen"]
JOBS = ["nurse", "software engineer", "high school teacher", "architect", "pastry chef",
        "journalist", "veterinarian", "accountant", "firefighter", "graphic designer",
        "pharmacist", "lawyer", "civil engineer", "librarian", "physiotherapist", "pilot"]
PETS = ["beagle", "tabby cat", "golden retriever", "parrot", "rabbit", "corgi", "husky",
        "hamster", "siamese cat", "dachshund", "border collie", "tortoise", "ferret",
        "labrador", "cockatiel", "greyhound"]
PET_NAMES = ["Biscuit", "Luna", "Max", "Pepper", "Mochi", "Ziggy", "Olive", "Rocket", "Nala",
             "Waffles", "Juniper", "Bruno", "Pickles", "Sunny", "Tofu", "Maple"]
FOODS = ["sushi", "Thai green curry", "tacos al pastor", "ramen", "lasagna", "dumplings",
         "paella", "pho", "falafel", "pierogi", "chicken biryani", "ceviche", "moussaka",
         "bibimbap", "shakshuka", "fish and chips"]
HOBBIES = ["pottery", "rock climbing", "salsa dancing", "birdwatching", "woodworking", "chess",
           "watercolor painting", "surfing", "knitting", "beekeeping", "archery",
           "sourdough baking", "calligraphy", "kayaking", "stand-up comedy", "origami"]
DESTINATIONS = ["Kyoto", "Iceland", "Peru", "Morocco", "New Zealand", "Norway", "Vietnam",
                "Greece", "Kenya", "Scotland", "Mexico City", "Croatia", "Patagonia", "Bali",
                "Istanbul", "Cape Town", "Prague", "Havana"]
EVENTS = ["ran a half marathon", "went to a Coldplay concert", "was a bridesmaid at a wedding",
          "gave a talk at a conference", "finished a 100 km charity bike ride",
          "graduated from a night-school course", "volunteered at a food bank",
          "hosted a housewarming party", "took a weekend cooking class",
          "went camping in the mountains", "got a driver's license", "ran a bake sale",
          "played in a five-a-side football tournament", "sang in a choir performance",
          "helped build a community garden", "did a sky dive"]
EVENT_PAST = {
    "was a bridesmaid at a wedding": "I was a bridesmaid at my best friend's wedding",
    "got a driver's license": "I finally passed my driving test and got my license",
}

FACT_TEMPLATES = {
    "home": ["I moved to {city} last month and I'm finally settled into the new apartment.",
             "I've been living in {city} for about three years now and I love it.",
             "Our place in {city} has the best view of the river, I never want to leave.",
             "Since relocating to {city} my commute is way shorter."],
    "job": ["I started a new job as a {job} a few weeks ago.",
            "Work as a {job} has been intense lately, lots of long shifts.",
            "I got promoted! Senior {job} now, can you believe it?",
            "Being a {job} is tiring but I really like my team."],
    "pet": ["We adopted a {pet} from the shelter! We named him {pet_name}.",
            "I finally got a {pet}, her name is {pet_name} and she's a handful.",
            "Meet {pet_name}, my new {pet}. Adopted him last weekend."],
    "food": ["Honestly my favorite food in the world is {food}, I could eat it every day.",
             "I've been cooking {food} every Sunday, it's my absolute favorite dish.",
             "Nothing beats a big plate of {food}, that's my comfort food."],
    "hobby": ["I took up {hobby} this year and I'm completely hooked.",
              "I joined a {hobby} club, we meet every Thursday evening.",
              "My new hobby is {hobby}, it's so relaxing after work."],
    "trip": ["I just got back from a trip to {place}, it was unforgettable.",
             "We spent two weeks traveling around {place}, the food was incredible.",
             "I'm writing to you from {place}! The trip has been amazing so far."],
    "event": ["Last weekend I {event}, I'm still buzzing.",
              "Guess what, I {event} on Saturday!",
              "Big news: I {event} a few days ago and it went really well."],
}
FOLLOW_UPS = {
    "home": ["The neighborhood has a great bakery on the corner.", "Rent is steep but worth it."],
    "job": ["My manager is supportive, which helps a lot.", "The hours are long though."],
    "pet": ["He already chewed through two of my shoes.", "She sleeps on my feet every night."],
    "food": ["I even tried making it from scratch once.", "There's a tiny place near me that "
             "does it perfectly."],
    "hobby": ["My first attempts were pretty terrible.", "The people there are really welcoming."],
    "trip": ["I took about a thousand photos.", "The jet lag was brutal on the way back."],
    "event": ["My legs still hurt.", "I was nervous but it turned out fine."],
}
REACTIONS = {
    "home": ["{city} sounds lovely, {name}! I'd love to visit.", "Wow, {city}! How's the weather "
             "there?"],
    "job": ["Congrats {name}! A {job}, that suits you.", "That sounds demanding, {name}."],
    "pet": ["A {pet}? So cute, {name}! Send pictures of {pet_name}.", "Aww, {pet_name} is a "
            "great name!"],
    "food": ["Now I'm hungry, {name}!", "I've never had {food}, you'll have to take me."],
    "hobby": ["{hobby} sounds like fun, {name}!", "I always wanted to try {hobby}."],
    "trip": ["{place} is on my bucket list!", "So jealous, {name}. Was it expensive?"],
    "event": ["That's amazing, {name}!", "Wow, proud of you, {name}!"],
}
SMALL_TALK = [
    "How was your week?", "Pretty busy, work has been hectic.", "Did you watch the game on Sunday?",
    "I've been trying to drink more water, it's harder than it sounds.",
    "The weather has been crazy lately.", "I'm reading a really good mystery novel right now.",
    "Any plans for the weekend?", "Not much, probably just catching up on sleep.",
    "My phone screen cracked again, so annoying.", "I started watching a new series, no spoilers!",
    "Traffic this morning was a nightmare.", "I should really clean my apartment.",
    "Have you tried that new podcast everyone talks about?", "I need a vacation, seriously.",
    "My neighbor's kid is learning the drums. Loudly.", "I finally fixed my bike.",
    "Do you ever feel like the weeks just fly by?", "I've been going to bed earlier, it helps.",
    "Let's catch up properly soon.", "Sorry for the late reply, it was a long day.",
]
THIRD_PARTY = [
    "My brother just moved to {city} for work.", "My cousin lives in {city}, she loves it there.",
    "A coworker of mine is obsessed with {food}.", "My sister adopted a {pet} last year.",
    "My dad keeps talking about taking up {hobby}.", "A friend of mine works as a {job}.",
    "My parents are planning a trip to {place}.", "My roommate {event} last month.",
]
GREETINGS = ["Hey {other}! Long time no talk.", "Hi {other}, how are you doing?",
             "Good to hear from you, {other}!", "Hey! What's new with you?"]
GOODBYES = ["Talk soon!", "Gotta run, bye!", "Catch you later.", "Take care, {other}!"]

FACT_KINDS = ["home", "job", "pet", "food", "hobby", "trip", "trip", "event", "event", "event"]
BRIDGES = {
    "pet": "the person who adopted a {pet}",
    "job": "the person who works as a {job}",
    "hobby": "the person who took up {hobby}",
    "home": "the person who lives in {city}",
}
TARGETS = {
    "home": "What city does {bridge} live in?",
    "job": "What does {bridge} do for a living?",
    "pet": "What is the name of the pet owned by {bridge}?",
    "food": "What is the favorite food of {bridge}?",
    "hobby": "What hobby does {bridge} have?",
}
SINGLE_HOP = {
    "home": "Where does {name} live?",
    "job": "What is {name}'s job?",
    "pet": "What is the name of {name}'s {pet}?",
    "food": "What is {name}'s favorite food?",
    "hobby": "What hobby did {name} take up?",
}
TEMPORAL = {
    "trip": "Where did {name} travel in {month}?",
    "event": "What did {name} do in {month}?",
}


@dataclass(frozen=True, slots=True)
class Turn:
    """One utterance: its speaker, its session's date and its words."""

    id: str
    conversation: int
    session: int
    date: date
    speaker: str
    text: str

    @property
    def note_text(self) -> str:
        """The turn as stored in memory: date, speaker and words."""
        return f"[{self.date.day} {self.date:%B %Y}] {self.speaker}: {self.text}"


@dataclass(frozen=True, slots=True)
class Question:
    """A question, its category and the ids of the turns that hold its answer."""

    id: str
    category: str
    text: str
    answer: str
    evidence: tuple[str, ...]


@dataclass(slots=True)
class Persona:
    """Everything one persona will say about themselves."""

    name: str
    facts: dict[str, list[dict]] = field(default_factory=dict)
    fact_turns: dict[str, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class Dataset:
    """All turns in conversation order, and the questions about them."""

    turns: list[Turn]
    questions: list[Question]


def generate(seed: int = 7, conversations: int = 8, sessions: int = 10) -> Dataset:
    """A reproducible corpus of `conversations` × `sessions` sessions and its questions."""
    rng = random.Random(seed)
    personas = _personas(rng, 2 * conversations)
    turns: list[Turn] = []
    for conv in range(conversations):
        pair = personas[2 * conv : 2 * conv + 2]
        turns.extend(_conversation(rng, conv, pair, sessions))
    by_id = {turn.id: turn for turn in turns}
    questions = _questions(rng, personas, by_id)
    return Dataset(turns, questions)


def _personas(rng: random.Random, count: int) -> list[Persona]:
    if count > len(NAMES):
        raise ValueError(f"at most {len(NAMES)} personas")
    pools = {key: rng.sample(pool, count) for key, pool in (
        ("city", CITIES), ("job", JOBS), ("pet", PETS), ("pet_name", PET_NAMES),
        ("food", FOODS), ("hobby", HOBBIES))}
    personas = []
    for i, name in enumerate(rng.sample(NAMES, count)):
        values = {key: pool[i] for key, pool in pools.items()}
        facts = {kind: [dict(values)] for kind in ("home", "job", "pet", "food", "hobby")}
        facts["trip"] = [{**values, "place": p} for p in rng.sample(DESTINATIONS, 2)]
        facts["event"] = [{**values, "event": e} for e in rng.sample(EVENTS, 3)]
        personas.append(Persona(name, facts))
    return personas


def _session_dates(rng: random.Random, sessions: int) -> list[date]:
    months = sorted(rng.sample(range(24), sessions))
    return [date(2022 + m // 12, m % 12 + 1, rng.randint(1, 28)) for m in months]


def _conversation(rng: random.Random, conv: int, pair: list[Persona], sessions: int):
    dates = _session_dates(rng, sessions)
    schedules = []
    for persona in pair:
        kinds = FACT_KINDS[:sessions] if sessions <= len(FACT_KINDS) else FACT_KINDS
        order = rng.sample(kinds, len(kinds))
        counters = {kind: 0 for kind in persona.facts}
        schedule = []
        for kind in order:
            schedule.append((kind, persona.facts[kind][counters[kind]]))
            counters[kind] += 1
        schedules.append(schedule)
    for session, day in enumerate(dates):
        script = _session_script(rng, pair, [s[session] if session < len(s) else None
                                             for s in schedules])
        for index, (speaker, text, marks) in enumerate(script):
            turn = Turn(f"c{conv}s{session}t{index}", conv, session, day, speaker.name, text)
            for kind, fact in marks:
                speaker.fact_turns.setdefault(kind, []).append(turn.id)
                fact["turn"], fact["date"] = turn.id, day
            yield turn


def _session_script(rng, pair, facts):
    """(speaker, text, [(fact kind, fact)]) lines of one session."""
    a, b = pair if rng.random() < 0.5 else pair[::-1]
    lines = [(a, rng.choice(GREETINGS).format(other=b.name), []),
             (b, rng.choice(GREETINGS[1:]).format(other=a.name), [])]
    blocks = [_fact_block(rng, persona, pair, fact) for persona, fact in zip(pair, facts,
                                                                           strict=True) if fact]
    chatter = rng.sample(SMALL_TALK, len(SMALL_TALK))
    blocks += [_small_talk_block(rng, pair, chatter) for _ in range(rng.randint(3, 5))]
    rng.shuffle(blocks)
    for block in blocks:
        lines.extend(block)
    speaker = rng.choice(pair)
    lines.append((speaker, rng.choice(GOODBYES).format(other=_other(pair, speaker).name), []))
    return lines


def _fact_block(rng, persona, pair, fact):
    kind, values = fact
    other = _other(pair, persona)
    slots = {**values, "name": persona.name, "event": _past(values.get("event", ""))}
    said = rng.choice(FACT_TEMPLATES[kind]).format(**slots)
    reaction = rng.choice(REACTIONS[kind]).format(**slots)
    block = [(persona, said, [(kind, values)]), (other, _capitalise(reaction), [])]
    if rng.random() < 0.7:
        block.append((persona, rng.choice(FOLLOW_UPS[kind]), []))
    return block


def _small_talk_block(rng, pair, chatter):
    speaker = rng.choice(pair)
    if rng.random() < 0.4:
        slots = {"city": rng.choice(CITIES), "food": rng.choice(FOODS), "pet": rng.choice(PETS),
                 "hobby": rng.choice(HOBBIES), "job": rng.choice(JOBS),
                 "place": rng.choice(DESTINATIONS), "event": rng.choice(EVENTS)}
        first = rng.choice(THIRD_PARTY).format(**slots)
    else:
        first = chatter.pop()
    return [(speaker, first, []), (_other(pair, speaker), chatter.pop(), [])]


def _other(pair, persona):
    return pair[1] if pair[0] is persona else pair[0]


def _past(event: str) -> str:
    return EVENT_PAST.get(event, event).removeprefix("I ")


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _questions(rng, personas, turns) -> list[Question]:
    questions = []
    for persona in personas:
        questions += _single_hop(rng, persona)
        questions += _multi_hop(rng, persona)
        questions += _temporal(persona)
    return [Question(f"q{i}", q.category, q.text, q.answer, q.evidence)
            for i, q in enumerate(questions)]


def _single_hop(rng, persona) -> list[Question]:
    out = []
    for kind in rng.sample(sorted(SINGLE_HOP), 3):
        fact = persona.facts[kind][0]
        text = SINGLE_HOP[kind].format(name=persona.name, **fact)
        answer = {"home": "city", "job": "job", "pet": "pet_name", "food": "food",
                  "hobby": "hobby"}[kind]
        out.append(Question("", "single-hop", text, fact[answer], (fact["turn"],)))
    return out


def _multi_hop(rng, persona) -> list[Question]:
    pairs = [(b, t) for b in BRIDGES for t in TARGETS if b != t]
    out = []
    for bridge_kind, target_kind in rng.sample(pairs, 3):
        bridge_fact = persona.facts[bridge_kind][0]
        target_fact = persona.facts[target_kind][0]
        bridge = BRIDGES[bridge_kind].format(**bridge_fact)
        text = TARGETS[target_kind].format(bridge=bridge)
        answer = {"home": "city", "job": "job", "pet": "pet_name", "food": "food",
                  "hobby": "hobby"}[target_kind]
        out.append(Question("", "multi-hop", text, target_fact[answer],
                            (bridge_fact["turn"], target_fact["turn"])))
    return out


def _temporal(persona) -> list[Question]:
    out = []
    for kind, template in TEMPORAL.items():
        for fact in persona.facts[kind][:2]:
            month = f"{fact['date']:%B %Y}"
            answer = fact.get("place") or fact["event"]
            out.append(Question("", "temporal", template.format(name=persona.name, month=month),
                                answer, (fact["turn"],)))
    return out


def main() -> None:
    """Print corpus size, one session and a few questions of each category."""
    data = generate()
    print(f"{len(data.turns)} turns, {len(data.questions)} questions")
    for turn in data.turns[:20]:
        print(f"  {turn.id:12s} {turn.note_text}")
    for category in ("single-hop", "multi-hop", "temporal"):
        chosen = [q for q in data.questions if q.category == category]
        print(f"{category}: {len(chosen)} questions")
        for q in chosen[:3]:
            print(f"  {q.text}  -> {q.answer}  {q.evidence}")


if __name__ == "__main__":
    main()
