"""What generated stories are made of, shared by scripts/gen-stories and bench/search.py.

Real words with their real frequencies (the `wordfreq` package, installed from PyPI when missing),
and real proper nouns: world cities with their countries, people (politicians and officials by
their real names, reporters and others by made-up but plausible ones), organisations, agencies,
desks and each desk's topic words in English, German and French.

`vocabulary(lang)` gives a language's word lists: every word of the top 20,000 for running text
(stop words and all, as prose has them), and the content words (no stop words, nothing shorter
than three letters) for the slots that carry meaning: headlines, keywords, query terms.
`search_terms(seed)` is the fixed set of query terms bench/search.py draws from.
"""
import bisect
import importlib
import itertools
import os
import random
import site
import subprocess
import sys
import unicodedata

TOP_WORDS = 20_000
LANGUAGES = ("en", "de", "fr")
DESKS = ("world", "business", "sports", "politics", "culture")
DESK_TITLES = {"world": "World", "business": "Business", "sports": "Sports", "politics": "Politics",
               "culture": "Culture"}
AGENCIES = ("Reuters", "AP", "AFP", "dpa")

# (city, country, language of the place when it is one of ours)
CITIES = [
    ("Almaty", "Kazakhstan", None), ("Astana", "Kazakhstan", None), ("Kyiv", "Ukraine", None),
    ("Kharkiv", "Ukraine", None), ("Moscow", "Russia", None), ("Berlin", "Germany", "de"),
    ("Hamburg", "Germany", "de"), ("Munich", "Germany", "de"), ("Frankfurt", "Germany", "de"),
    ("Vienna", "Austria", "de"), ("Zürich", "Switzerland", "de"), ("Geneva", "Switzerland", "fr"),
    ("Paris", "France", "fr"), ("Marseille", "France", "fr"), ("Lyon", "France", "fr"),
    ("Brussels", "Belgium", "fr"), ("Amsterdam", "Netherlands", None), ("London", "Britain", None),
    ("Manchester", "Britain", None), ("Dublin", "Ireland", None), ("Madrid", "Spain", None),
    ("Barcelona", "Spain", None), ("Lisbon", "Portugal", None), ("Rome", "Italy", None),
    ("Milan", "Italy", None), ("Athens", "Greece", None), ("Warsaw", "Poland", None),
    ("Kraków", "Poland", None), ("Prague", "Czech Republic", None), ("Budapest", "Hungary", None),
    ("Bucharest", "Romania", None), ("Belgrade", "Serbia", None), ("Istanbul", "Turkey", None),
    ("Ankara", "Turkey", None), ("Tbilisi", "Georgia", None), ("Yerevan", "Armenia", None),
    ("Baku", "Azerbaijan", None), ("Tashkent", "Uzbekistan", None), ("Bishkek", "Kyrgyzstan", None),
    ("Tehran", "Iran", None), ("Baghdad", "Iraq", None), ("Beirut", "Lebanon", None),
    ("Jerusalem", "Israel", None), ("Cairo", "Egypt", None), ("Riyadh", "Saudi Arabia", None),
    ("Dubai", "United Arab Emirates", None), ("Doha", "Qatar", None), ("Nairobi", "Kenya", None),
    ("Addis Ababa", "Ethiopia", None), ("Lagos", "Nigeria", None), ("Abuja", "Nigeria", None),
    ("Accra", "Ghana", None), ("Dakar", "Senegal", "fr"), ("Johannesburg", "South Africa", None),
    ("Kinshasa", "Congo", "fr"), ("Khartoum", "Sudan", None), ("Kampala", "Uganda", None),
    ("Dar es Salaam", "Tanzania", None), ("New Delhi", "India", None), ("Mumbai", "India", None),
    ("Karachi", "Pakistan", None), ("Islamabad", "Pakistan", None), ("Dhaka", "Bangladesh", None),
    ("Kabul", "Afghanistan", None), ("Beijing", "China", None), ("Shanghai", "China", None),
    ("Hong Kong", "China", None), ("Taipei", "Taiwan", None), ("Tokyo", "Japan", None),
    ("Seoul", "South Korea", None), ("Manila", "Philippines", None), ("Jakarta", "Indonesia", None),
    ("Bangkok", "Thailand", None), ("Hanoi", "Vietnam", None), ("Singapore", "Singapore", None),
    ("Kuala Lumpur", "Malaysia", None), ("Sydney", "Australia", None), ("Canberra", "Australia", None),
    ("Wellington", "New Zealand", None), ("Washington", "United States", None),
    ("New York", "United States", None), ("Los Angeles", "United States", None), ("Ottawa", "Canada", None),
    ("Montreal", "Canada", "fr"), ("Mexico City", "Mexico", None), ("Havana", "Cuba", None),
    ("Bogotá", "Colombia", None), ("Caracas", "Venezuela", None), ("Lima", "Peru", None),
    ("Santiago", "Chile", None), ("Buenos Aires", "Argentina", None), ("São Paulo", "Brazil", None),
    ("Brasília", "Brazil", None), ("Reykjavík", "Iceland", None), ("Oslo", "Norway", None),
    ("Stockholm", "Sweden", None), ("Helsinki", "Finland", None), ("Copenhagen", "Denmark", None),
]

# Places and countries as German and French copy writes them, where that differs.
LOCAL_NAMES = {
    "de": {"Munich": "München", "Vienna": "Wien", "Geneva": "Genf", "Brussels": "Brüssel", "Moscow": "Moskau",
           "Warsaw": "Warschau", "Prague": "Prag", "Rome": "Rom", "Lisbon": "Lissabon", "Athens": "Athen",
           "Kyiv": "Kiew", "Copenhagen": "Kopenhagen", "Germany": "Deutschland", "Austria": "Österreich",
           "Switzerland": "Schweiz", "France": "Frankreich", "Russia": "Russland", "Britain": "Großbritannien",
           "Spain": "Spanien", "Italy": "Italien", "Poland": "Polen", "Turkey": "Türkei", "China": "China",
           "Japan": "Japan", "Belgium": "Belgien", "Netherlands": "Niederlande", "Ukraine": "Ukraine",
           "Kazakhstan": "Kasachstan", "United States": "USA", "Egypt": "Ägypten", "Greece": "Griechenland"},
    "fr": {"Geneva": "Genève", "Brussels": "Bruxelles", "Moscow": "Moscou", "Warsaw": "Varsovie",
           "Vienna": "Vienne", "London": "Londres", "Munich": "Munich", "Lisbon": "Lisbonne",
           "Athens": "Athènes", "Beijing": "Pékin", "Montreal": "Montréal", "Germany": "Allemagne",
           "Switzerland": "Suisse", "Belgium": "Belgique", "Britain": "Royaume-Uni", "Spain": "Espagne",
           "Italy": "Italie", "Poland": "Pologne", "Russia": "Russie", "United States": "États-Unis",
           "Senegal": "Sénégal", "Congo": "RD Congo", "Canada": "Canada", "Kazakhstan": "Kazakhstan",
           "Egypt": "Égypte", "Greece": "Grèce", "Turkey": "Turquie", "Japan": "Japon", "China": "Chine"},
}

# (full name, how later mentions call them). Public figures by their real names.
PUBLIC_FIGURES = [
    ("Kassym-Jomart Tokayev", "Tokayev"), ("Nursultan Nazarbayev", "Nazarbayev"),
    ("Volodymyr Zelenskiy", "Zelenskiy"), ("Vladimir Putin", "Putin"), ("Emmanuel Macron", "Macron"),
    ("Friedrich Merz", "Merz"), ("Olaf Scholz", "Scholz"), ("Ursula von der Leyen", "von der Leyen"),
    ("Keir Starmer", "Starmer"), ("Giorgia Meloni", "Meloni"), ("Pedro Sánchez", "Sánchez"),
    ("Donald Tusk", "Tusk"), ("Recep Tayyip Erdoğan", "Erdoğan"), ("Narendra Modi", "Modi"),
    ("Xi Jinping", "Xi"), ("Lee Jae-myung", "Lee"), ("Prabowo Subianto", "Prabowo"),
    ("Anthony Albanese", "Albanese"), ("Luiz Inácio Lula da Silva", "Lula"), ("Javier Milei", "Milei"),
    ("Claudia Sheinbaum", "Sheinbaum"), ("Cyril Ramaphosa", "Ramaphosa"), ("William Ruto", "Ruto"),
    ("Bola Tinubu", "Tinubu"), ("Abiy Ahmed", "Abiy"), ("António Guterres", "Guterres"),
    ("Christine Lagarde", "Lagarde"), ("Mark Rutte", "Rutte"), ("Shavkat Mirziyoyev", "Mirziyoyev"),
    ("Nikol Pashinyan", "Pashinyan"),
]
# Made up, from names common where they are set.
OTHER_PEOPLE = [
    ("Aigerim Bekova", "Bekova"), ("Dauren Sultanov", "Sultanov"), ("Olena Kovalenko", "Kovalenko"),
    ("Taras Melnyk", "Melnyk"), ("Anna Schmidt", "Schmidt"), ("Jonas Becker", "Becker"),
    ("Lea Hoffmann", "Hoffmann"), ("Hannah Weber", "Weber"), ("Noah Fischer", "Fischer"),
    ("Chloé Martin", "Martin"), ("Hugo Lefèvre", "Lefèvre"), ("Camille Dubois", "Dubois"),
    ("Mathieu Girard", "Girard"), ("Inès Benali", "Benali"), ("Sofia Rossi", "Rossi"),
    ("Marco Bianchi", "Bianchi"), ("Lucía García", "García"), ("Javier Morales", "Morales"),
    ("Ana Souza", "Souza"), ("Pedro Oliveira", "Oliveira"), ("Tomás Silva", "Silva"),
    ("Amina Odhiambo", "Odhiambo"), ("Grace Wanjiru", "Wanjiru"), ("Kwame Mensah", "Mensah"),
    ("Chidi Okafor", "Okafor"), ("Fatima Bello", "Bello"), ("Daniel Okonkwo", "Okonkwo"),
    ("Thandiwe Nkosi", "Nkosi"), ("Ruth Abebe", "Abebe"), ("Aisha Mohammed", "Mohammed"),
    ("Omar Haddad", "Haddad"), ("Layla Nasser", "Nasser"), ("Ahmed Khalil", "Khalil"),
    ("Leila Karimi", "Karimi"), ("Yusuf Demir", "Demir"), ("Elif Yılmaz", "Yılmaz"),
    ("Zeynep Aydın", "Aydın"), ("Nino Beridze", "Beridze"), ("Arman Petrosyan", "Petrosyan"),
    ("Rustam Karimov", "Karimov"), ("Sergei Volkov", "Volkov"), ("Natalia Ivanova", "Ivanova"),
    ("Priya Sharma", "Sharma"), ("Arjun Mehta", "Mehta"), ("Rahul Gupta", "Gupta"),
    ("Nadia Hussain", "Hussain"), ("Farhan Rahman", "Rahman"), ("Wei Zhang", "Zhang"),
    ("Mei Lin", "Lin"), ("Hiroshi Tanaka", "Tanaka"), ("Yuki Sato", "Sato"),
    ("Kenji Watanabe", "Watanabe"), ("Min-jun Kim", "Kim"), ("Sun-hee Choi", "Choi"),
    ("Linh Nguyen", "Nguyen"), ("Siti Rahayu", "Rahayu"), ("Budi Santoso", "Santoso"),
    ("Maria Santos", "Santos"), ("José Reyes", "Reyes"), ("Somchai Wongsakul", "Wongsakul"),
    ("Liam O'Brien", "O'Brien"), ("Siobhan Murphy", "Murphy"), ("Emma Johansson", "Johansson"),
    ("Lars Nilsen", "Nilsen"), ("Mikko Virtanen", "Virtanen"), ("Katarzyna Nowak", "Nowak"),
    ("Piotr Zieliński", "Zieliński"), ("Jan Novák", "Novák"), ("Eszter Nagy", "Nagy"),
    ("Andrei Popescu", "Popescu"), ("Dimitris Papadopoulos", "Papadopoulos"), ("Sarah Cohen", "Cohen"),
    ("David Levi", "Levi"), ("Carlos Mendoza", "Mendoza"), ("Valentina Torres", "Torres"),
    ("Diego Fernández", "Fernández"), ("Isabel Cruz", "Cruz"), ("Emily Carter", "Carter"),
    ("James Whitfield", "Whitfield"), ("Olivia Bennett", "Bennett"), ("Jack Thompson", "Thompson"),
]
PEOPLE = PUBLIC_FIGURES + OTHER_PEOPLE
# Who writes and photographs: never a public figure.
REPORTERS = OTHER_PEOPLE

ORGANISATIONS = [
    "United Nations", "NATO", "European Union", "European Commission", "World Bank",
    "International Monetary Fund", "OPEC", "World Health Organization", "Red Cross", "African Union",
    "ASEAN", "CSTO", "World Trade Organization", "Amnesty International", "Human Rights Watch",
    "Greenpeace", "European Central Bank", "Federal Reserve", "Bank of England", "Bundesbank", "UNICEF",
    "UNHCR", "Interpol", "FIFA", "International Olympic Committee", "UEFA", "Médecins Sans Frontières",
    "OSCE", "G20", "Airbus", "Siemens", "Toyota", "Samsung", "Chevron", "Gazprom", "Volkswagen",
    "TotalEnergies", "KazMunayGas",
]

# Each desk's own words, so that a desk filter and a query word go together as they do in a newsroom.
DESK_TOPICS = {
    "en": {
        "world": ["protest", "protests", "ceasefire", "troops", "border", "refugees", "talks", "summit",
                  "sanctions", "earthquake", "floods", "unrest"],
        "business": ["shares", "inflation", "rates", "earnings", "merger", "oil", "exports", "tariffs",
                     "bonds", "currency", "profit", "investors"],
        "sports": ["match", "final", "league", "coach", "cup", "title", "striker", "marathon", "tournament",
                   "championship", "season", "transfer"],
        "politics": ["election", "parliament", "vote", "minister", "coalition", "reform", "budget",
                     "referendum", "cabinet", "opposition", "president", "campaign"],
        "culture": ["festival", "film", "museum", "exhibition", "album", "novel", "theatre", "orchestra",
                    "gallery", "awards", "premiere", "concert"],
    },
    "de": {
        "world": ["Proteste", "Waffenruhe", "Truppen", "Grenze", "Flüchtlinge", "Gespräche", "Gipfel",
                  "Sanktionen", "Erdbeben", "Hochwasser"],
        "business": ["Aktien", "Inflation", "Zinsen", "Gewinn", "Fusion", "Ölpreis", "Exporte", "Zölle",
                     "Anleger", "Konjunktur"],
        "sports": ["Spiel", "Finale", "Bundesliga", "Trainer", "Pokal", "Titel", "Meisterschaft", "Turnier",
                   "Saison", "Wechsel"],
        "politics": ["Wahl", "Bundestag", "Abstimmung", "Minister", "Koalition", "Reform", "Haushalt",
                     "Regierung", "Opposition", "Wahlkampf"],
        "culture": ["Festival", "Film", "Museum", "Ausstellung", "Album", "Roman", "Theater", "Orchester",
                    "Preisverleihung", "Konzert"],
    },
    "fr": {
        "world": ["manifestations", "cessez-le-feu", "troupes", "frontière", "réfugiés", "négociations",
                  "sommet", "sanctions", "séisme", "inondations"],
        "business": ["actions", "inflation", "taux", "bénéfices", "fusion", "pétrole", "exportations",
                     "droits de douane", "investisseurs", "croissance"],
        "sports": ["match", "finale", "championnat", "entraîneur", "coupe", "titre", "tournoi", "saison",
                   "transfert", "victoire"],
        "politics": ["élections", "parlement", "vote", "ministre", "coalition", "réforme", "budget",
                     "gouvernement", "opposition", "campagne"],
        "culture": ["festival", "film", "musée", "exposition", "album", "roman", "théâtre", "orchestre",
                    "cérémonie", "concert"],
    },
}

# PostgreSQL's own stop word lists (tsearch_data/{english,german,french}.stop, PostgreSQL 15): a
# content slot never holds a word the search would drop, and the worst-case query word is one the
# search keeps.
STOP_WORDS = {
    "en": set("""i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she
her hers herself it its itself they them their theirs themselves what which who whom this that these those
am is are was were be been being have has had having do does did doing a an the and but if or because as
until while of at by for with about against between into through during before after above below to from up
down in out on off over under again further then once here there when where why how all any both each few
more most other some such no nor not only own same so than too very s t can will just don should now""".split()),
    "de": set("""aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes
anderm andern anderr anders auch auf aus bei bin bis bist da damit dann der den des dem die das daß derselbe
derselben denselben desselben demselben dieselbe dieselben dasselbe dazu dein deine deinem deinen deiner
deines denn derer dessen dich dir du dies diese diesem diesen dieser dieses doch dort durch ein eine einem
einen einer eines einig einige einigem einigen einiger einiges einmal er ihn ihm es etwas euer eure eurem
euren eurer eures für gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich mich mir ihr ihre
ihrem ihren ihrer ihres euch im in indem ins ist jede jedem jeden jeder jedes jene jenem jenen jener jenes
jetzt kann kein keine keinem keinen keiner keines können könnte machen man manche manchem manchen mancher
manches mein meine meinem meinen meiner meines mit muss musste nach nicht nichts noch nun nur ob oder ohne
sehr sein seine seinem seinen seiner seines selbst sich sie ihnen sind so solche solchem solchen solcher
solches soll sollte sondern sonst über um und uns unse unsem unsen unser unses unter viel vom von vor während
war waren warst was weg weil weiter welche welchem welchen welcher welches wenn werde werden wie wieder will
wir wird wirst wo wollen wollte würde würden zu zum zur zwar zwischen""".split()),
    "fr": set("""au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me même mes moi
mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre
vous c d j l à m n s t y été étée étées étés étant étante étants étantes suis es est sommes êtes sont serai
seras sera serons serez seront serais serait serions seriez seraient étais était étions étiez étaient fus fut
fûmes fûtes furent sois soit soyons soyez soient fusse fusses fût fussions fussiez fussent ayant ayante
ayantes ayants eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez auront aurais aurait
aurions auriez auraient avais avait avions aviez avaient eut eûmes eûtes eurent aie aies ait ayons ayez
aient eusse eusses eût eussions eussiez eussent""".split()),
}

# The lists come partly from chat and subtitles: what no newsroom writes stays out, as do elision
# fragments (French l', qu') that are not words on their own.
BLOCKED = set("""fuck fucking fucked fucker fuckin motherfucker shit shitty bullshit bitch bitches ass asshole
dick dicks pussy cunt whore slut porn porno nigga niggas nigger fag faggot retard retarded cock tits boobs
lol lmao lmfao omg wtf idk tbh btw gonna wanna gotta yeah yea yeh nah haha hahaha hah hehe ur im dont cant
thats didnt doesnt isnt wont ive youre ok okay xd rofl damn dammit hell sexy sex horny nude naked
scheiße scheisse scheiß arsch fick ficken verdammt hure geil alter digga
merde putain bordel con connard connasse salope chier foutre bite mdr ptdr lol qu""".split())
BODY_SHORT = {"en": {"a", "i"}, "de": set(), "fr": {"a", "à", "y"}}


def ensure_wordfreq():
    """The wordfreq module, installed with pip when it is missing."""
    try:
        return importlib.import_module("wordfreq")
    except ImportError:
        pass
    print("story_vocabulary: installing wordfreq (pip)", file=sys.stderr)
    command = [sys.executable, "-m", "pip", "install", "-q", "wordfreq"]
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0 and "externally-managed-environment" in result.stderr:
        result = subprocess.run(command + ["--break-system-packages"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.exit(f"story_vocabulary: could not install wordfreq:\n{result.stderr}")
    importlib.invalidate_caches()
    user_site = site.getusersitepackages()  # where pip puts it for a user who is not root
    if os.path.isdir(user_site) and user_site not in sys.path:
        site.addsitedir(user_site)
    return importlib.import_module("wordfreq")


class Vocabulary:
    """One language's words, each list with cumulative weights for random.choices."""

    def __init__(self, lang, top=TOP_WORDS):
        wordfreq = ensure_wordfreq()
        listed = wordfreq.top_n_list(lang, top)
        try:
            table = wordfreq.get_frequency_dict(lang)
            frequency = lambda w: table.get(w, 0.0)  # noqa: E731
        except Exception:  # an older or newer wordfreq without it: one look-up a word
            frequency = lambda w: wordfreq.word_frequency(w, lang)  # noqa: E731
        stop, short = STOP_WORDS[lang], BODY_SHORT[lang]
        proper = {}
        for city, country, _ in CITIES:
            for name in (city, country, LOCAL_NAMES.get(lang, {}).get(city), LOCAL_NAMES.get(lang, {}).get(country)):
                if name and " " not in name:
                    proper[name.lower()] = name
        body, body_weights, content, content_weights = [], [], [], []
        for word in listed:
            if not word.isalpha() or word in BLOCKED or (len(word) < 2 and word not in short):
                continue
            weight = frequency(word)
            if weight <= 0:
                continue
            shown = "I" if (lang == "en" and word == "i") else proper.get(word, word)
            body.append(shown)
            body_weights.append(weight)
            if len(word) >= 3 and word not in stop and word not in proper:
                content.append(word)
                content_weights.append(weight)
        self.lang = lang
        self.body = body
        self.body_cum = list(itertools.accumulate(body_weights))
        # Running text is most of the work: a word is drawn with one uniform index into a table
        # that holds each word in proportion to its frequency, three times faster than bisecting
        # the cumulative weights. Two tables of 2**16 slots (each fits a core's cache): the head,
        # where a word has its whole slots, and for the rest of the mass (the None slots) the tail,
        # where every word that has no head slot has one at least.
        slots = 1 << 16
        total = self.body_cum[-1]
        self.body_head, residual = [], []
        for word, weight in zip(body, body_weights):
            share = weight / total * slots
            whole = int(share)
            self.body_head.extend([word] * whole)
            residual.append((word, share - whole, whole == 0))
        self.body_head.extend([None] * (slots - len(self.body_head)))
        rest = sum(r for _, r, _ in residual)
        self.body_tail = []
        for word, r, only_here in residual:
            count = round(r / rest * slots) if rest else 0
            self.body_tail.extend([word] * (max(1, count) if only_here else count))
        self.content = content  # most frequent first
        self.content_cum = list(itertools.accumulate(content_weights))
        # Headline and keyword slots: four letters or more, reads as a word that carries meaning.
        self.headline = [w for w in content if len(w) >= 4]
        self.headline_cum = list(itertools.accumulate(
            weight for word, weight in zip(content, content_weights) if len(word) >= 4))


_vocabularies = {}


def vocabulary(lang):
    if lang not in _vocabularies:
        _vocabularies[lang] = Vocabulary(lang)
    return _vocabularies[lang]


def ascii_fold(text):
    """`Zürich` → `Zurich`, `Erdoğan` → `Erdogan`: for slugs."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ı", "i").replace("ß", "ss")


def worst_case_word(lang="en"):
    """The most frequent content word: in most stories' bodies, and not a stop word."""
    return vocabulary(lang).content[0]


def search_terms(seed=7, proper_count=120, content_count=240, topic_count=40):
    """The candidate query terms of a typical search: proper nouns (cities, people by the name
    later mentions use), mid-frequency content words (ranks 300 to 6,000 of the English content
    words) and desk topic words; each a string of one or two words. Fixed for a seed."""
    rng = random.Random(seed)
    proper = sorted({city for city, _, _ in CITIES} | {short for _, short in PEOPLE})
    english = vocabulary("en")
    middle = english.content[300:6000]
    topics = sorted({w for words in DESK_TOPICS["en"].values() for w in words})
    return {
        "proper": rng.sample(proper, min(proper_count, len(proper))),
        "content": rng.sample(middle, min(content_count, len(middle))),
        "topic": rng.sample(topics, min(topic_count, len(topics))),
    }


def draw_text(rng, v, k):
    """k words of running text at their frequencies."""
    words = rng.choices(v.body_head, k=k)
    if None in words:
        tail, n, random_ = v.body_tail, len(v.body_tail), rng.random
        words = [w if w is not None else tail[int(random_() * n)] for w in words]
    return words


def draw_one(rng, words, cum):
    return words[bisect.bisect(cum, rng.random() * cum[-1], 0, len(cum) - 1)]
