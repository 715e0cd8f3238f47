"""A held-out conversation set, written apart from the retrieval code and its word lists.

Nothing here was tuned against: the retrieval defaults were chosen on bench/retrieval_data.py,
and this generator was written without reading the entity rules, stopwords or topic table
of memcube/. It differs from the first set where real conversations do:
- other names, places, jobs and pets (no overlap with the first set's lists);
- events told with relative dates ("last Tuesday", "two weeks ago", "yesterday") in a
  session dated days later, so the day they happened is in no note's date;
- facts split across adjacent turns: one person asks ("So what did you call the puppy?"),
  the other answers in the next turn without repeating the topic ("Kasimir, after my
  grandfather."); the answer turn is the evidence;
- questions paraphrased away from the turns' words ("Which town is Oksana based in now?").

Categories are those of the first set: single-hop, multi-hop (the person is named only
through another of their facts) and temporal (a day or month, resolved from relative dates).
Run it to print a sample: `python bench/retrieval_heldout.py`.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from retrieval_data import Dataset, Question, Turn

PEOPLE = ["Oksana", "Wojciech", "Thandiwe", "Bongani", "Siobhan", "Teodoro", "Ayaan", "Mirela",
          "Kwame", "Ilse", "Yusuf", "Marisol"]
TOWNS = ["Tbilisi", "Ljubljana", "Porto Alegre", "Krakow", "Valparaiso", "Da Nang", "Tromso",
         "Cluj", "Hobart", "Windhoek", "Oaxaca", "Gdansk"]
WORK = [("wind turbine technician", "I repair wind turbines now, mostly the offshore ones."),
        ("sign language interpreter", "I interpret sign language at the county courthouse."),
        ("tugboat captain", "I skipper a tugboat in the harbour, night rotations mostly."),
        ("court stenographer", "I'm a stenographer at the district court these days."),
        ("beekeeping inspector", "I inspect hives for the agriculture ministry."),
        ("orthodontist", "I straighten teeth for a living, braces all day long."),
        ("air traffic controller", "I'm in the control tower at the airport, radar shifts."),
        ("luthier", "I build and repair violins in a little workshop."),
        ("glaciologist", "I measure glaciers for the university, lots of fieldwork."),
        ("sommelier", "I run the wine list at a restaurant downtown."),
        ("locksmith", "I'm a locksmith, emergency call-outs at all hours."),
        ("cartographer", "I draw maps for the national survey office.")]
ANIMALS = ["whippet", "axolotl", "cockatoo", "bearded dragon", "shiba inu", "chinchilla",
           "maine coon", "saluki", "guinea pig", "budgie", "samoyed", "iguana"]
ANIMAL_NAMES = ["Kasimir", "Pim", "Zuzu", "Bartholomew", "Noodle", "Figaro", "Odette",
                "Sprocket", "Dumpling", "Basil", "Marzipan", "Gizmo"]
PASTIMES = ["the cello", "free diving", "the board game go", "kombucha brewing", "fencing",
            "stargazing", "restoring motorbikes", "bonsai", "tango", "falconry",
            "glassblowing", "orienteering"]
TRIPS = ["Ohrid", "the Faroe Islands", "Zanzibar", "Hokkaido", "the Dolomites",
         "Luang Prabang", "Sardinia", "Tasmania", "Oman", "the Azores", "Bhutan", "Lofoten"]
EVENTS = ["ran my first trail race", "sat my citizenship exam", "played an open mic night",
          "helped my aunt move house", "finished a 24-hour hackathon",
          "got my scuba certificate", "gave the toast at my sister's wedding",
          "planted forty trees with the volunteers", "won the office chili cook-off",
          "passed my motorcycle test", "sang at a karaoke final", "sold my first painting"]
# how the day is said, and how many days before the session it was (None: weekday rule)
WHEN = [("yesterday", 1), ("two days ago", 2), ("three days ago", 3), ("last Tuesday", None),
        ("last Saturday", None), ("a week ago", 7), ("last Friday", None)]
WEEKDAY = {"Tuesday": 1, "Friday": 4, "Saturday": 5}
CHATTER = ["Morning! Coffee hasn't kicked in yet.", "Same here, slow start.",
           "The bus was late again, standing room only.", "Ugh, the worst.",
           "Have you seen the new bakery by the station?", "Not yet, is it good?",
           "My upstairs neighbour is renovating, drills at 7 am.", "That sounds awful.",
           "I binged an entire season this weekend.", "No regrets I hope!",
           "It's been raining for five days straight.", "Same here, everything is damp.",
           "I keep forgetting to water my plants.", "They'll forgive you.",
           "How's your mum doing?", "Much better, thanks for asking."]
OTHERS = ["My flatmate just started working as a {work}.", "My uncle retired to {town}.",
          "A friend of mine keeps a {animal} called {animal_name}.",
          "My cousin went to {trip} on her honeymoon.", "My boss has taken up {pastime}."]


def generate(seed: int = 3, conversations: int = 6, sessions: int = 8) -> Dataset:
    """A reproducible held-out corpus of `conversations` × `sessions` sessions and questions."""
    rng = random.Random(seed)
    people = _people(rng, 2 * conversations)
    turns: list[Turn] = []
    for conv in range(conversations):
        turns += _conversation(rng, conv, people[2 * conv: 2 * conv + 2], sessions)
    questions = [q for person in people for q in _questions(rng, person, people)]
    return Dataset(turns, [Question(f"h{i}", q.category, q.text, q.answer, q.evidence)
                           for i, q in enumerate(questions)])


def _people(rng, count):
    picks = {key: rng.sample(pool, count) for key, pool in (
        ("town", TOWNS), ("work", WORK), ("animal", ANIMALS), ("animal_name", ANIMAL_NAMES),
        ("pastime", PASTIMES))}
    people = []
    for i, name in enumerate(rng.sample(PEOPLE, count)):
        person = {key: pool[i] for key, pool in picks.items()}
        person.update(name=name, trips=rng.sample(TRIPS, 2), events=rng.sample(EVENTS, 3),
                      turn={}, when={})
        people.append(person)
    return people


def _conversation(rng, conv, pair, sessions):
    days = sorted(rng.sample(range(700), sessions))
    plans = []
    for _ in pair:
        facts = ["home", "work", "pet", "pastime", "trip0", "trip1", "event0", "event1",
                 "event2"]
        rng.shuffle(facts)
        plans.append([facts[i::sessions] for i in range(sessions)])
    for session, offset in enumerate(days):
        day = date(2023, 1, 8) + timedelta(days=offset)
        lines = [(pair[0], f"Hi {pair[1]['name']}!"), (pair[1], "Hey, good to hear from you.")]
        blocks = [_fact(rng, person, _other(pair, person), fact, day)
                  for person, plan in zip(pair, plans, strict=True) for fact in plan[session]]
        blocks += [_chatter(rng, pair) for _ in range(rng.randint(2, 4))]
        rng.shuffle(blocks)
        for block in blocks:
            lines += block
        lines.append((pair[1], "Anyway, talk soon!"))
        for index, (person, text, *fact) in enumerate(lines):
            turn = Turn(f"h{conv}s{session}t{index}", conv, session, day, person["name"], text)
            if fact:
                person["turn"][fact[0]] = turn.id
            yield turn


def _fact(rng, person, other, fact, day):
    """Lines (speaker, text[, fact]) telling one fact; some split into question and answer."""
    split = rng.random() < 0.6
    if fact == "home":
        if split:
            return [(other, "So where did the move take you in the end?"),
                    (person, f"{person['town']}. Still living out of boxes!", "home")]
        return [(person, f"We finally unpacked in {person['town']}, the flat has a tiny "
                         "balcony.", "home"), (other, "Sounds cosy!")]
    if fact == "work":
        line = person["work"][1]
        if split:
            return [(other, "What are you doing for money these days?"),
                    (person, line, "work")]
        return [(person, f"New gig: {line}", "work"), (other, "Wow, never met one of those.")]
    if fact == "pet":
        if split:
            return [(other, f"Did you settle on a name for the {person['animal']} yet?"),
                    (person, f"{person['animal_name']}! It just suits the little guy.", "pet")]
        return [(person, f"Say hello to {person['animal_name']}, our {person['animal']}.", "pet"),
                (other, "Adorable.")]
    if fact == "pastime":
        return [(other, "What do you do to switch off after work?"),
                (person, f"Lately it's {person['pastime']}, twice a week.", "pastime")]
    if fact.startswith("trip"):
        place = person["trips"][int(fact[-1])]
        person["when"][fact] = day - timedelta(days=14)
        return [(person, f"Two weeks ago I was in {place}, it feels like a dream now.", fact),
                (other, "You have to show me the photos.")]
    said, back = rng.choice(WHEN)
    happened = _before(day, said, back)
    person["when"][fact] = happened
    event = person["events"][int(fact[-1])]
    return [(person, f"{said.capitalize()} I {event}.", fact), (other, "No way, tell me more!")]


def _before(day, said, back):
    if back is not None:
        return day - timedelta(days=back)
    weekday = WEEKDAY[said.split()[-1]]
    gap = (day.weekday() - weekday) % 7 or 7
    return day - timedelta(days=gap)


def _chatter(rng, pair):
    speaker, other = rng.sample(pair, 2)
    if rng.random() < 0.5:
        slots = {"work": rng.choice(WORK)[0], "town": rng.choice(TOWNS),
                 "animal": rng.choice(ANIMALS), "animal_name": rng.choice(ANIMAL_NAMES),
                 "trip": rng.choice(TRIPS), "pastime": rng.choice(PASTIMES)}
        return [(speaker, rng.choice(OTHERS).format(**slots)), (other, "Small world.")]
    i = 2 * rng.randrange(len(CHATTER) // 2)
    return [(speaker, CHATTER[i]), (other, CHATTER[i + 1])]


def _other(pair, person):
    return pair[1] if pair[0] is person else pair[0]


SINGLE = {"home": ("Which town is {name} based in now?", "town"),
          "work": ("What does {name} do for a living?", "work"),
          "pet": ("What is {name}'s {animal} called?", "animal_name"),
          "pastime": ("How does {name} unwind after work?", "pastime")}
BRIDGE = {"pet": "the person whose {animal} is named {animal_name}",
          "home": "the person who settled in {town}",
          "pastime": "the person who does {pastime} to relax"}
TARGET = {"home": "Which city does {bridge} live in?",
          "work": "What is the profession of {bridge}?",
          "pet": "What kind of animal does {bridge} keep?",
          "pastime": "What does {bridge} do in their free time?"}


def _questions(rng, person, people):
    out = []
    for kind in rng.sample(sorted(SINGLE), 3):
        text, key = SINGLE[kind]
        out.append(Question("", "single-hop", text.format(**person), _value(person, key),
                            (person["turn"][kind],)))
    pairs = [(b, t) for b in BRIDGE for t in TARGET if b != t]
    for bridge, target in rng.sample(pairs, 3):
        text = TARGET[target].format(bridge=BRIDGE[bridge].format(**person))
        key = {"home": "town", "work": "work", "pet": "animal", "pastime": "pastime"}[target]
        out.append(Question("", "multi-hop", text, _value(person, key),
                            (person["turn"][bridge], person["turn"][target])))
    for fact in ("event0", "event1", "event2"):
        day = person["when"][fact]
        out.append(Question("", "temporal", f"What did {person['name']} do on "
                            f"{day.day} {day:%B %Y}?", person["events"][int(fact[-1])],
                            (person["turn"][fact],)))
    for fact in ("trip0", "trip1"):
        month = f"{person['when'][fact]:%B %Y}"
        out.append(Question("", "temporal", f"Where was {person['name']} in {month}?",
                            person["trips"][int(fact[-1])], (person["turn"][fact],)))
    return out


def _value(person, key):
    value = person[key]
    return value[0] if isinstance(value, tuple) else value


def main() -> None:
    """Print corpus size, one session and a few questions of each category."""
    data = generate()
    print(f"{len(data.turns)} turns, {len(data.questions)} questions")
    for turn in data.turns[:24]:
        print(f"  {turn.id:12s} {turn.note_text}")
    for category in ("single-hop", "multi-hop", "temporal"):
        chosen = [q for q in data.questions if q.category == category]
        print(f"{category}: {len(chosen)} questions")
        for q in chosen[:4]:
            print(f"  {q.text}  -> {q.answer}  {q.evidence}")


if __name__ == "__main__":
    main()
