"""Labelled note pairs for update detection: (older note, newer note, is the newer an update).

DEV tuned the detector's rules and thresholds; HELD_OUT was written separately and never used
to tune them. Negatives cover the ways a rule can fire wrongly: same subject with another
attribute, another subject with the same attribute, additions that read like changes, and
restatements of the same value.
"""

from __future__ import annotations

DEV: list[tuple[str, str, bool]] = [
    ("Ana lives in Lisbon.", "Ana moved to Berlin last month.", True),
    ("I live in Lisbon.", "I moved to Berlin.", True),
    ("Tom works at Google.", "Tom quit Google and now works at Spotify.", True),
    ("My phone number is 555-0134.", "My new phone number is 555-0199.", True),
    ("Maria is married to Paul.", "Maria divorced Paul and is now married to Luis.", True),
    ("I am 31 years old.", "Actually I turned 32 last week, my age is 32.", True),
    ("Bob's favourite band is Muse.", "Bob's favourite band is now Radiohead.", True),
    ("Priya studies law at Oxford.", "Priya switched and now studies medicine at Oxford.", True),
    ("I drive a red Toyota.", "I sold the Toyota, these days I drive a Honda.", True),
    ("Ken lives in Osaka.", "Correction: Ken lives in Kyoto, not Osaka.", True),
    ("My email is ana@old.example.", "I changed my email to ana@new.example.", True),
    ("Leo works as a nurse in Leeds.", "Leo no longer works as a nurse; he works as a chef.", True),
    ("Ana lives in Lisbon.", "Ana works at a bakery in Lisbon.", False),
    ("Ana lives in Lisbon.", "Tom lives in Berlin.", False),
    ("Tom works at Google.", "Tom now also plays tennis on Sundays.", False),
    ("I live in Lisbon.", "I love the food in Lisbon.", False),
    ("Maria is married to Paul.", "Maria and Paul visited Rome in May.", False),
    ("Bob's favourite band is Muse.", "Bob saw Muse live in 2019.", False),
    ("Priya studies law at Oxford.", "Priya's sister studies art in Leeds.", False),
    ("Ana lives in Lisbon.", "Ana still lives in Lisbon.", False),
    ("I drive a red Toyota.", "My brother drives a blue Ford.", False),
    ("Ken lives in Osaka.", "Ken's new dog is called Hachi.", False),
    ("Leo works as a nurse in Leeds.", "Leo started running marathons.", False),
    ("My phone number is 555-0134.", "My phone is a new Pixel.", False),
]

HELD_OUT: list[tuple[str, str, bool]] = [
    ("Sara lives in Madrid.", "Sara relocated to Valencia in March.", True),
    ("I work at Acme Corp.", "I left Acme Corp, now I work at Globex.", True),
    ("Omar is dating Lina.", "Omar is no longer dating Lina; he is engaged to Noor.", True),
    ("My address is 12 Elm Street.", "My new address is 40 Oak Avenue.", True),
    ("Chen's favourite food is ramen.", "Chen's favourite food is now tacos.", True),
    ("Eva studies physics at ETH.", "Eva changed her major to chemistry at ETH.", True),
    ("Raj is 40 years old.", "Raj turned 41, so his age is 41 now.", True),
    ("I live with my parents in Porto.", "I moved out; I live in a flat in Braga now.", True),
    ("Nina works as a teacher.", "Nina quit teaching and works as a designer.", True),
    ("Paul drives a Volvo.", "Actually Paul drives a Saab, not a Volvo.", True),
    ("Mia lives in Oslo.", "Mia has been in Bergen since her move; she lives there now.", True),
    ("Jon's phone number is 555-2020.", "Jon got a new number: 555-7777.", True),
    ("Zoe eats meat.", "Zoe is vegetarian now.", True),
    ("Ivan lives in Kyiv.", "Ivan's parents live in Lviv.", False),
    ("Sara lives in Madrid.", "Sara works in Madrid at a museum.", False),
    ("I work at Acme Corp.", "My friend works at Globex.", False),
    ("Omar is dating Lina.", "Omar and Lina now share a cat.", False),
    ("Chen's favourite food is ramen.", "Chen cooked ramen for ten friends.", False),
    ("Eva studies physics at ETH.", "Eva now also tutors maths.", False),
    ("Nina works as a teacher.", "Nina's school is new this year.", False),
    ("Paul drives a Volvo.", "Paul's Volvo is in the garage now.", False),
    ("Mia lives in Oslo.", "Mia actually loves living in Oslo.", False),
    ("Raj is 40 years old.", "Raj's daughter is 12 years old.", False),
    ("I live with my parents in Porto.", "Porto has great food.", False),
    ("Zoe eats meat.", "Zoe started a new job at a bank.", False),
]
