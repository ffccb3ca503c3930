"""Synthetic reading practice on who-holds-which-role text, mixed into reader training.

SQuAD is Wikipedia prose. News, minutes and reports name people the way Wikipedia
seldom does: in lists of appositives ("met A, Vice Secretary of X and Governor, B,
Executive Vice Governor, and C, Secretary of Y"), with a title before the name
("Vice President B"), and with signers set apart from those who attend. The SQuAD-trained
reader answers "Who is the governor?" with the name nearest the word "Governor" and
"Who signed?" with the organisation that signed. This module writes passages of those
shapes from random people, titles and organisations, with the answers' character offsets,
as :class:`~scripts.lab.squad_data.SquadQuestion` rows that ``train_span --synthetic``
mixes with the SQuAD training questions.

Nothing here comes from a document we evaluate on: the names, organisations and
sentence templates are generic, and the generator is seeded, so a run is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from scripts.lab.squad_data import SquadQuestion

SURNAMES_ZH = (
    "Zhang Wang Li Liu Yang Huang Zhao Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao Zheng Liang "
    "Xie Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang Yu Du Ye"
).split()
SURNAMES_OTHER = (
    "Smith Johnson Brown Garcia Miller Davis Martinez Lopez Wilson Anderson Taylor Moore "
    "Okafor Mensah Haddad Nasser Kowalski Novak Schmidt Weber Rossi Bianchi Dubois Laurent "
    "Silva Santos Pereira Costa Tanaka Suzuki Sato Kim Park Choi Nguyen Tran Patel Sharma "
    "Singh Gupta Ivanova Petrov Hansen Larsen Jensen Murphy Kelly Walsh Duarte Moreno"
).split()
GIVEN_ZH = (
    "Jianguo Xiaoming Hui Lei Min Jing Tao Yong Qiang Fang Xia Bin Chao Hong Ping Jun Ying "
    "Haiyan Zhiwei Guoqiang Yanping Xiaohong Wenjie Dongmei Lijun Jiahao Ruoxi Zihan Mingyu "
    "Chunhua Xuefeng Shaohua Yifan Haoran Jinlong Baohua Qingyun Weidong Xinyi"
).split()
GIVEN_OTHER = (
    "James Mary Robert Patricia Michael Linda David Susan Richard Karen Thomas Sarah Daniel "
    "Amina Chidi Kwame Fatima Omar Leila Piotr Anna Jan Eva Klaus Petra Marco Giulia Pierre "
    "Claire Joao Ana Hiroshi Yuki Minjun Seoyeon Linh Duc Arjun Priya Rahul Olga Dmitri "
    "Ingrid Lars Siobhan Sean Elena Carlos Lucia Rafael"
).split()
PLACES = (
    "Hunan Sichuan Yunnan Gansu Jiangxi Anhui Guizhou Hebei Fujian Zhejiang Ontario Bavaria "
    "Catalonia Lombardy Queensland Gauteng Lagos Kerala Punjab Saxony Normandy Andalusia "
    "Tasmania Manitoba Oaxaca Minas Gerais Hokkaido Jeolla Mekong Rivers Northgate Eastfield "
    "Westmoor Harbour Bay Lakeshore Redcliff Silverton Ashford Brookhaven"
).split()
INDUSTRIES = (
    "Steel Energy Power Coal Logistics Telecom Pharmaceutical Chemical Textile Shipping "
    "Aviation Railway Agricultural Water Mining Software Semiconductor Cement Paper Food"
).split()
ORG_KINDS = ("Group", "Holding Group", "Corporation", "Co., Ltd.", "Industries", "Holdings")
BANK_KINDS = ("Bank", "Commercial Bank", "Development Bank", "Savings Bank", "Trust")
DESCRIPTIONS = (
    "the region's largest {industry} producer",
    "the province's largest {industry} and logistics enterprise",
    "a state-owned {industry} conglomerate",
    "a leading {industry} supplier in the north",
    "the country's second-largest {industry} company",
    "a privately held {industry} manufacturer",
    "a listed {industry} services provider",
    "the oldest {industry} firm in the province",
)
TOPICS = (
    "green finance",
    "infrastructure investment",
    "digital transformation",
    "rural revitalisation",
    "export credit",
    "technology innovation",
    "urban renewal",
    "clean energy",
)
#: Named lists ("the Four Priorities, namely, A, B, C, and D"): what a list is called.
LIST_NOUNS = ("Pillars", "Priorities", "Major Areas", "Key Tasks", "Engines", "Strategic Focuses")
COUNT_WORDS = {2: "Two", 3: "Three", 4: "Four", 5: "Five"}
LIST_ITEMS = (
    "Inclusive Lending",
    "Trade Finance",
    "Supply Chain Finance",
    "Technology Credit",
    "Asset Management",
    "Carbon Markets",
    "Cross-border Payments",
    "Rural Credit",
    "Consumer Lending",
    "Smart Logistics",
    "Advanced Manufacturing",
    "New Materials",
    "Modern Agriculture",
    "Cultural Tourism",
    "Healthcare Services",
    "Urban Infrastructure",
    "Data Centres",
    "Hydrogen Energy",
    "Water Conservancy",
    "Elderly Care",
)
LIST_LEADS = ("namely, ", "namely ", "that is, ", "including ", "which are ")
TOPICS_VERBS = (
    "serve the local economy",
    "support industrial upgrading",
    "take part in the transformation",
    "back key projects",
    "strengthen the real economy",
)
MONTHS = (
    "January February March April May June July August September October November December"
).split()

#: Corporate and government ranks, each with the near-miss ranks that stand beside it.
CORPORATE_TITLES = (
    "Chairman",
    "Vice Chairman",
    "President",
    "Vice President",
    "Executive Vice President",
    "Chief Executive Officer",
    "Chief Financial Officer",
    "General Manager",
    "Deputy General Manager",
    "Party Secretary",
    "Deputy Party Secretary",
    "Managing Director",
    "Director",
    "Secretary of the Board",
)
GOVERNMENT_TITLES = (
    "Governor",
    "Vice Governor",
    "Executive Vice Governor",
    "Mayor",
    "Deputy Mayor",
    "Secretary",
    "Deputy Secretary",
    "Director of the Finance Department",
    "Deputy Director of the Finance Department",
)
#: Ranks written before a title ("Standing Committee Member and Vice Governor"); several
#: people hold one, so nobody is asked about them.
RANKS = ("Standing Committee Member", "Party Committee Member", "Board Member")
WHO_FORMS = (
    "Who is the {title} of {org}?",
    "Who is {org}'s {title}?",
    "Who serves as {title} of {org}?",
    "Who is the {ltitle} of {org}?",
    "Name the {ltitle} of {org}.",
    "Which person is the {ltitle} of {org}?",
)

SIGNED_TOGETHER = (
    "signed the agreement on behalf of the two sides",
    "put their signatures to the agreement",
    "signed for their organisations",
    "represented the two sides at the signing table",
    "signed the document for each party",
    "represented both parties in the signing",
    "signed on behalf of the two parties",
)
WHAT_FORMS = (
    "What position does {name} hold?",
    "What is {name}'s title?",
    "What is {name}'s position?",
    "What role does {name} have at {org}?",
)


def _initials(name: str) -> str:
    """ "Eastfield Chemical Holding Group" -> "ECHG" (what reports write in brackets)."""
    return "".join(w[0] for w in name.replace("Co., Ltd.", "").split() if w[0].isupper())


@dataclass(frozen=True)
class Org:
    """An organisation: its name, and what kind of organisation it is."""

    name: str
    description: str
    government: bool
    place: str


@dataclass(frozen=True)
class Person:
    """Someone holding one or two titles at one organisation."""

    name: str
    titles: tuple[str, ...]
    org: Org
    rank: str | None = None  # held beside the titles, by others too; never asked about


@dataclass
class _Text:
    """A passage being written, with the character offsets of what was written in it."""

    parts: list[str] = field(default_factory=list)
    length: int = 0

    def add(self, text: str) -> int:
        """Append ``text``; return where it starts."""
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start

    @property
    def text(self) -> str:
        return "".join(self.parts)


#: Text as written in a passage, and where it starts.
_At = tuple[str, int]


@dataclass(frozen=True)
class _Asked:
    question: str
    answers: tuple[tuple[str, int], ...]  # text, start


class RolesGenerator:
    """Seeded writer of role passages and their questions."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._used_names: set[str] = set()
        self._taken: set[tuple[str, str]] = set()  # (organisation, title) given this passage

    # -- vocabulary ---------------------------------------------------------------
    def _name(self) -> str:
        rng = self._rng
        while True:
            if rng.random() < 0.5:  # a Chinese name, mostly surname first
                given, surname = rng.choice(GIVEN_ZH), rng.choice(SURNAMES_ZH)
                zh_order = rng.random() < 0.8
            else:
                given, surname, zh_order = (
                    rng.choice(GIVEN_OTHER),
                    rng.choice(SURNAMES_OTHER),
                    False,
                )
            name = f"{surname} {given}" if zh_order else f"{given} {surname}"
            if name not in self._used_names:
                self._used_names.add(name)
                return name

    def _org(self, government: bool) -> Org:
        rng = self._rng
        place = rng.choice(PLACES)
        industry = rng.choice(INDUSTRIES)
        if government:
            kind = rng.choice(("Provincial Government", "Municipal Government", "City Council"))
            name = f"{place} {kind}"
            return Org(name, f"the government of {place}", True, place)
        if rng.random() < 0.3:
            name = f"{place} {rng.choice(BANK_KINDS)}"
            kind = rng.choice(("a joint-stock commercial bank", "a regional lender"))
            return Org(name, kind, False, place)
        name = f"{place} {industry} {rng.choice(ORG_KINDS)}"
        desc = rng.choice(DESCRIPTIONS).format(industry=industry.lower())
        return Org(name, desc, False, place)

    def _people(self, org: Org, count: int) -> list[Person]:
        """``count`` people of ``org`` with distinct titles, near misses likely."""
        rng = self._rng
        titles_of = GOVERNMENT_TITLES if org.government else CORPORATE_TITLES
        pool = [t for t in titles_of if (org.name, t) not in self._taken]
        rng.shuffle(pool)
        # Put a rank and its near miss side by side half of the time.
        if rng.random() < 0.5:
            first = pool[0]
            near = [t for t in pool[1:] if first in t or t in first]
            if near:
                pool.remove(near[0])
                pool.insert(1, near[0])
        people = []
        spare = pool[count:]
        for title in pool[:count]:
            titles: tuple[str, ...] = (title,)
            if spare and rng.random() < 0.3:
                titles = (spare.pop(), title)
            rank = rng.choice(RANKS) if rng.random() < 0.25 else None
            people.append(Person(self._name(), titles, org, rank))
        self._taken.update((org.name, t) for p in people for t in p.titles)
        return people

    # -- sentences ----------------------------------------------------------------
    def _appositive(self, text: _Text, person: Person, with_org: bool) -> tuple[int, _At]:
        """Write "Name, Title and Title of Org", or "Name, Title of Org and Title" (the
        second title then stands right before the next name); return where the name
        starts, and the titles as written (the answer to "What position does Name hold?")."""
        start = text.add(person.name)
        text.add(", ")
        ranked = ((person.rank,) if person.rank else ()) + person.titles
        if with_org and len(person.titles) == 2 and self._rng.random() < 0.5:
            first = " and ".join(ranked[:-1])
            titles = f"{first} of {person.org.name} and {person.titles[-1]}"
            return start, (titles, text.add(titles))
        titles = " and ".join(ranked)
        at = text.add(titles)
        if with_org:
            text.add(f" of {person.org.name}")
        return start, (titles, at)

    def _ask_role(
        self, person: Person, start: int, titles: _At, org_label: str | None = None
    ) -> _Asked:
        """ "Who is the Title of Org?" (the name at ``start``), or the other way round,
        "What position does Name hold?" (``titles``, as written, and where)."""
        rng = self._rng
        org = org_label or person.org.name
        if rng.random() < 0.25:
            form = rng.choice(WHAT_FORMS)
            return _Asked(form.format(name=person.name, org=org), (titles,))
        title = rng.choice(person.titles)
        form = rng.choice(WHO_FORMS)
        if person.org.government and rng.random() < 0.5:
            org = person.org.place  # "the governor of Hunan", as people ask it
        question = form.format(title=title, ltitle=title.lower(), org=org)
        return _Asked(question, ((person.name, start),))

    def _list_sentence(self, text: _Text, people: list[Person]) -> list[_Asked]:
        """ "... met with A, T of O, B, T of O, and C, T of O." and one question per person."""
        rng = self._rng
        host = self._name()
        verb = rng.choice(
            (
                "held talks with",
                "met with",
                "engaged in discussions with",
                "was received by",
                "exchanged views with",
            )
        )
        text.add(f"During the visit, {host} {verb} ")
        asked = []
        for i, person in enumerate(people):
            if i:
                text.add(", and " if i == len(people) - 1 else ", ")
            start, titles = self._appositive(text, person, with_org=rng.random() < 0.8)
            asked.append(self._ask_role(person, start, titles))
        text.add(". ")
        return asked

    def _title_first_sentence(self, text: _Text, people: list[Person]) -> list[_Asked]:
        """ "Org's Title A spoke, and Title B attended." (the title before the name)."""
        rng = self._rng
        asked = []
        org = people[0].org
        for i, person in enumerate(people):
            title = person.titles[-1]
            lead = f"{org.name}'s {title} " if i == 0 else f"{title} "
            if i:
                text.add(rng.choice((", and ", ", while ", "; ")))
            text.add(lead)
            start = text.add(person.name)
            text.add(
                " "
                + rng.choice(
                    (
                        "delivered the opening remarks",
                        "attended the meeting",
                        "took part in the research",
                        "briefed the visitors",
                        "presented the annual plan",
                    )
                )
            )
            held = Person(person.name, (title,), org)
            asked.append(self._ask_role(held, start, (title, start - len(title) - 1)))
        text.add(". ")
        return asked

    def _signing(
        self, text: _Text, ours: Person, theirs: Person, guests: list[Person]
    ) -> list[_Asked]:
        """An organisation signs with another; two people sign for them, others attend."""
        rng = self._rng
        day = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}"
        topic = rng.choice(TOPICS)
        day_start = text.add(f"On {day}, ") + len("On ")
        text.add(ours.org.name)
        text.add(f" signed a {topic} cooperation agreement with {theirs.org.name}. ")
        asked = []
        if guests and rng.random() < 0.7:
            text.add("The signing ceremony was attended by ")
            for i, guest in enumerate(guests):
                if i:
                    text.add(" and ")
                self._appositive(text, guest, with_org=True)
            text.add(". ")
        a_start, _ = self._appositive(text, ours, with_org=True)
        text.add(", and ")
        b_start, _ = self._appositive(text, theirs, with_org=True)
        text.add(" " + rng.choice(SIGNED_TOGETHER) + ". ")
        both = ((ours.name, a_start), (theirs.name, b_start))
        question = rng.choice(
            (
                "Who signed the agreement?",
                f"Who signed the {topic} agreement?",
                "Who signed the cooperation agreement?",
                "Who were the signatories of the agreement?",
            )
        )
        asked.append(_Asked(question, both))
        asked.append(_Asked(f"Who signed on behalf of {ours.org.name}?", ((ours.name, a_start),)))
        asked.append(
            _Asked(
                rng.choice(
                    ("When was the agreement signed?", f"When was the {topic} agreement signed?")
                ),
                ((day, day_start),),
            )
        )
        return asked

    def _visit(self, text: _Text, org: Org, host: Person) -> list[_Asked]:
        """ "... visited Org, description, ... Accompanied by A, Title of the company, ...",
        then, at times, a partner praised in the same words ("B is a partner of Org") and
        someone of the same organisation with a near-miss title ("Vice Title")."""
        rng = self._rng
        visitor = self._name()
        text.add(
            f"{rng.choice(('That afternoon', 'Later', 'The next morning'))}, {visitor} visited "
        )
        name_start = text.add(org.name)
        short = _initials(org.name) if rng.random() < 0.5 else None
        if short:
            text.add(f" ({short})")
        text.add(", ")
        desc_start = text.add(org.description)
        text.add(". ")
        asked = [
            _Asked(
                rng.choice(
                    (
                        f"What kind of company is {org.name}?",
                        f"What is {org.name}?",
                        f"What type of organisation is {org.name}?",
                    )
                ),
                ((org.description, desc_start),),
            )
        ]
        text.add("Accompanied by ")
        start = text.add(host.name)
        titles = " and ".join(host.titles)
        titles_at = text.add(f", {titles}") + 2
        text.add(f" of the company, {visitor} toured the exhibition hall. ")
        if rng.random() < 0.5:
            partner = self._org(government=False).name
            praise = rng.choice(("a significant partner", "a long-term partner", "a key lender"))
            text.add(f"{host.name} said that {partner} is {praise} of {org.name}. ")
        asked.append(self._ask_role(host, start, (titles, titles_at), short))
        asked.append(_Asked(f"Who accompanied {visitor}?", ((host.name, start),)))
        if short:
            asked.append(_Asked(f"What does {short} stand for?", ((org.name, name_start),)))
        near = [t for t in CORPORATE_TITLES if host.titles[-1] in t and t not in host.titles]
        if near and rng.random() < 0.6:
            deputy = Person(self._name(), (rng.choice(near),), org)
            text.add(f"{rng.choice(('The next day', 'Afterwards'))}, {visitor} met ")
            deputy_start, deputy_titles = self._appositive(text, deputy, with_org=False)
            text.add(f" of {short or 'the company'}. ")
            asked.append(self._ask_role(deputy, deputy_start, deputy_titles, short))
        return asked

    def _named_list(self, text: _Text, org: Org) -> list[_Asked]:
        """ "Org will draw on its Three Pillars, namely, A, B, and C, to ..." and a
        second named list beside it: "What are the Three Pillars?" is the list, not its name."""
        rng = self._rng
        asked = []
        items = list(LIST_ITEMS)
        rng.shuffle(items)
        nouns = rng.sample(LIST_NOUNS, k=2)
        for i, noun in enumerate(nouns):
            count = rng.randint(2, 5)
            chosen, items = items[:count], items[count:]
            label = f"{COUNT_WORDS[count]} {noun}"
            listed = ", ".join(chosen[:-1]) + ("," if count > 2 else "") + f" and {chosen[-1]}"
            if i == 0:
                text.add(f"{org.name} will draw on its strengths in the “{label}”, ")
            else:
                text.add(f"Its hosts urged it to support the “{label}” of the province, ")
            text.add(rng.choice(LIST_LEADS))
            at = text.add(listed)
            text.add(f", to {rng.choice(TOPICS_VERBS)}. ")
            whose = org.name if i == 0 else "the province"
            question = rng.choice(
                (
                    f"What are the {label} of {whose}?",
                    f"What are the {label}?",
                    f"Which areas make up the {label}?",
                )
            )
            asked.append(_Asked(question, ((listed, at),)))
        return asked

    # -- passages -----------------------------------------------------------------
    def passage(self, index: int) -> list[SquadQuestion]:
        """One passage of two or three shapes, with its questions."""
        rng = self._rng
        self._used_names.clear()
        self._taken.clear()
        text = _Text()
        asked: list[_Asked] = []
        gov = self._org(government=True)
        company = self._org(government=False)
        shapes = rng.sample(
            ("list", "title_first", "signing", "visit", "named_list"), k=rng.choice((2, 3))
        )
        for shape in shapes:
            if shape == "list":
                people = self._people(gov, rng.randint(2, 3)) + self._people(company, 1)
                rng.shuffle(people)
                asked += self._list_sentence(text, people)
            elif shape == "title_first":
                asked += self._title_first_sentence(text, self._people(company, 2))
            elif shape == "signing":
                ours, theirs = self._people(company, 1)[0], self._people(gov, 1)[0]
                guests = self._people(gov, 1) + self._people(company, 1)
                asked += self._signing(text, ours, theirs, guests)
            elif shape == "named_list":
                asked += self._named_list(text, company)
            else:
                other = self._org(government=False)
                asked += self._visit(text, other, self._people(other, 1)[0])
        context = text.text.rstrip()
        rows = []
        for n, item in enumerate(asked):
            answers = tuple(a for a, _ in item.answers)
            starts = tuple(s for _, s in item.answers)
            if len(set(answers)) != len(answers):
                continue
            rows.append(
                SquadQuestion(
                    qid=f"roles-{index}-{n}",
                    title="synthetic-roles",
                    context=context,
                    question=item.question,
                    answers=answers,
                    answer_starts=starts,
                )
            )
        return rows


def role_questions(count: int, seed: int) -> list[SquadQuestion]:
    """About ``count`` questions over synthetic role passages, reproducibly from ``seed``."""
    generator = RolesGenerator(seed)
    out: list[SquadQuestion] = []
    index = 0
    while len(out) < count:
        out.extend(generator.passage(index))
        index += 1
    return out[:count]
