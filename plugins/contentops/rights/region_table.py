"""Built-in region hierarchy: ISO-3166 countries grouped the usual ways, with aliases.

Modelled data (the real key lists live in the tenant's generic metadata, not in public sources),
kept apart from the catalogue logic so the tables can be read and extended on their own.
"""

from __future__ import annotations

from typing import Any


def _codes(text: str) -> list[str]:
    """Space-separated ISO codes -> list (keeps the region tables readable)."""
    return text.split()


def region_data() -> dict[str, Any]:
    """Default region hierarchy (modelled): ISO-3166 alpha-2 countries grouped the usual ways."""
    europe = _codes(
        "ad al at ax ba be bg by ch cy cz de dk ee es fi fo fr gb gg gi gr hr hu ie im is it je li lt lu lv "
        "mc md me mk mt nl no pl pt ro rs ru se si sj sk sm tr ua va xk"
    )
    eu = _codes("at be bg cy cz de dk ee es fi fr gr hr hu ie it lt lu lv mt nl pl pt ro se si sk")
    middle_east = _codes("ae bh eg il iq ir jo kw lb om ps qa sa sy tr ye")
    africa = _codes(
        "ao bf bi bj bw cd cf cg ci cm cv dj dz eg eh er et ga gh gm gn gq gw ke km lr ls ly ma mg ml mr mu mw "
        "mz na ne ng re rw sc sd sh sl sn so ss st sz td tg tn tz ug yt za zm zw"
    )
    north_america = _codes("us ca mx bm gl pm")
    central_america = _codes("bz cr gt hn ni pa sv")
    caribbean = _codes("ag ai aw bb bl bq bs cu cw dm do gd gp ht jm kn ky lc mf mq ms pr sx tc tt vc vg vi")
    south_america = _codes("ar bo br cl co ec fk gf gy pe py sr uy ve")
    asia = _codes(
        "af am az bd bh bn bt cn ge hk id il in iq ir jo jp kg kh kp kr kw kz la lb lk mm mn mo mv my np om "
        "ph pk ps qa sa sg sy th tj tl tm tr tw uz vn ye ae"
    )
    oceania = _codes("as au ck fj fm gu ki mh mp nc nf nr nu nz pf pg pn pw sb tk to tv vu wf ws")
    west_asia = set(middle_east) | {"am", "az", "ge"}
    apac = sorted(set(asia) - west_asia) + oceania
    return {
        "groups": {
            "europe": europe,
            "eu": eu,
            "eea": [*eu, "is", "li", "no"],
            "dach": ["de", "at", "ch"],
            "benelux": ["be", "nl", "lu"],
            "nordics": ["dk", "fi", "is", "no", "se", "fo", "ax"],
            "uk_and_ireland": ["gb", "ie", "im", "gg", "je"],
            "middle_east": middle_east,
            "africa": africa,
            "emea": ["europe", "middle_east", "africa"],
            "north_america": north_america,
            "central_america": central_america,
            "caribbean": caribbean,
            "south_america": south_america,
            "latam": ["mx", "central_america", "caribbean", "south_america"],
            "americas": ["north_america", "central_america", "caribbean", "south_america"],
            "asia": asia,
            "oceania": oceania,
            "apac": apac,
            "antarctica": ["aq"],
        },
        "aliases": {
            "world": "worldwide",
            "global": "worldwide",
            "all_countries": "worldwide",
            "european_union": "eu",
            "european_economic_area": "eea",
            "latin_america": "latam",
            "asia_pacific": "apac",
            "europe_middle_east_africa": "emea",
            "scandinavia": "nordics",
            "uk": "gb",
            "united_kingdom": "gb",
            "great_britain": "gb",
            "germany": "de",
            "austria": "at",
            "switzerland": "ch",
            "france": "fr",
            "italy": "it",
            "spain": "es",
            "portugal": "pt",
            "netherlands": "nl",
            "belgium": "be",
            "luxembourg": "lu",
            "ireland": "ie",
            "denmark": "dk",
            "sweden": "se",
            "norway": "no",
            "finland": "fi",
            "iceland": "is",
            "poland": "pl",
            "czechia": "cz",
            "czech_republic": "cz",
            "hungary": "hu",
            "greece": "gr",
            "romania": "ro",
            "russia": "ru",
            "ukraine": "ua",
            "turkey": "tr",
            "turkiye": "tr",
            "usa": "us",
            "united_states": "us",
            "united_states_of_america": "us",
            "canada": "ca",
            "mexico": "mx",
            "brazil": "br",
            "argentina": "ar",
            "chile": "cl",
            "colombia": "co",
            "china": "cn",
            "hong_kong": "hk",
            "taiwan": "tw",
            "japan": "jp",
            "south_korea": "kr",
            "korea": "kr",
            "india": "in",
            "indonesia": "id",
            "malaysia": "my",
            "singapore": "sg",
            "thailand": "th",
            "philippines": "ph",
            "vietnam": "vn",
            "australia": "au",
            "new_zealand": "nz",
            "south_africa": "za",
            "nigeria": "ng",
            "kenya": "ke",
            "egypt": "eg",
            "israel": "il",
            "saudi_arabia": "sa",
            "united_arab_emirates": "ae",
            "uae": "ae",
        },
        "wildcards": ["worldwide", "any"],
        "prefixes": ["geography_", "region_", "country_", "territory_"],
        "closed": True,
    }
