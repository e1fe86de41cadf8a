"""Rank playbooks for free text (what an on-call engineer types, an alert line, an error string, a pasted log).

Lexical and explainable: text is folded into concept terms (bot.vocabulary: synonyms, phrases, library error names,
numbers with units, typos of key words), scored with BM25 over each playbook's title, symptoms, signal phrases and
the words of its error-string patterns, plus bonuses for the playbook's error-string patterns and alert names found
verbatim. The matcher abstains below a confidence floor that depends on how many playbooks are in play (a service
narrows the catalogue to its guide) and how much of the text the vocabulary explains, and it asks for more on a text
that says nothing is wrong (one that only names things: "Release v2.3.0", "S3 bill tripled"); it also abstains, with
a reason, on texts that read like a feature request, a documentation report, a how-to question or a chore
(bot.intents). Two small learned models (bot.learned, trained on the evaluation set's tune split, shipped as
weights: no download) then refuse a text unlike the catalogue's incidents and reorder the candidates by how much
the text reads like each playbook's real reports; neither overrides an error string a playbook knows.

Pasted text costs the same at any length: the matcher reads the first few thousand characters, the error-looking
lines of what follows (bounded in number and in how far it looks) and the end, where a trace names its exception.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
import string
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import ahocorasick

from bot.intents import not_incident
from bot.learned import Reading, features, learned
from bot.playbook import Playbook
from bot.redaction import MARKER
from bot.vocabulary import (
    CONCEPTS,
    COUNTED,
    DURATION_UNITS,
    HOURS_FROM_SECONDS,
    INTERVAL_WORDS,
    LIBRARY_ERRORS,
    LIMIT_WORDS,
    NOT_TYPOS,
    PHRASES,
    SATURATED_FROM_PERCENT,
    SIZE_UNITS,
    SLOW_FROM_SECONDS,
    STATUS_CODES,
    STOPWORDS,
    SYMPTOM_CONCEPTS,
    SYMPTOM_WORDS,
    THING_WORDS,
    TYPO_MIN_LENGTH,
    WAITING_WORDS,
    WORDS,
    in_english,
)

# Field weights: what a playbook says about itself, strongest first.
W_PHRASE, W_TITLE, W_SYMPTOM, W_SUMMARY = 2.0, 2.0, 1.0, 1.0
# The words of its error-string patterns say what the playbook is about too ("AccessDenied", "504 Gateway").
W_PATTERN = 0.75
K1, B = 2.0, 0.4
PATTERN_BONUS, ALERT_BONUS, PHRASE_BONUS = 12.0, 6.0, 1.5
# A text that names a service of the catalogue (an alert label, a pod name) favours that service's guide.
HINT_BOOST = 2.0
# Words outside the incident vocabulary count for less: "record", "build" or "time" alone mean little.
W_PLAIN_WORD = 0.5
# "alert" says that a monitor fired, rarely what about: "latency alarm going off" is about latency. Half a concept:
# less and alerting problems under a service lose to any other word.
TERM_WEIGHTS = {"alert": 0.5}
COVERAGE_PLAIN_WORD = 0.5
# Confidence floors for the whole catalogue (tuned on the tune split, see benchmarks/matcher.py). The matcher
# abstains below MIN_SCORE, or when too little of the text is explained and no error string or alert name matched.
MIN_SCORE = 7.0
MIN_COVERAGE = 0.25
SURE_SCORE = 14.0  # so many terms agree that coverage does not matter
# Short texts score low but say little else: accept a lower score when much of the text is explained.
LOW_SCORE, HIGH_COVERAGE = 5.0, 0.45
# With fewer playbooks in play the best one needs less of a lead: the floors scale with
# (log(n) / log(catalogue))^FLOOR_POWER (a guide's 10-18 playbooks: 0.30-0.48), never below this share.
MIN_FLOOR_SHARE = 0.45
FLOOR_POWER = 2.0

# Pasted text: how much of it is read.
HEAD_CHARS = 1500  # the start, read whole
TAIL_CHARS = 800  # the end, read whole (a traceback ends with its exception)
SCAN_CHARS = 100_000  # how far before the tail error-looking lines are looked for
MAX_ERROR_LINES, MAX_LINE_CHARS, MAX_LINES_TRIED = 12, 240, 64  # lines kept; read from each end
CHUNK_CHARS = 2048  # error words are looked for this much of a paste at a time
MIN_LINES_TO_DEDUPE = 8
MAX_TRIES_PER_LITERAL = 4  # lines searched for one pattern
MAX_PATTERN_SEARCHES = 48  # patterns searched for one text
LEARNED_WEIGHT = 1.0  # the learned model has as much say in the ranking as the rules' scores
LEARNED_SHOWN = 0.25  # a probability worth naming in the explanation
INTENT_CHARS = 500  # a feature request or a question says so at the start
ERROR_WORDS = ("error", "exception", "fatal", "panic", "traceback", "refused", "denied", "timed out", "timeout",
               "killed", "failed", "failure", "oom", "unavailable", "forbidden", "unauthorized", "reset by peer")  # fmt: skip

_CAMEL = re.compile(r"(?<=[a-z0-9])(?<!\A[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2,})")
# Where a word in mixed case turns to its next part ("connectionRefused", "HTTPServer"). It starts with the capital
# so that the regex engine skips to capitals, not trying every position of the text.
_CASE_TURN = re.compile(r"[A-Z](?:(?<=[a-z0-9][A-Z])|(?<=[A-Z]{2})(?=[a-z]))")
_SIZE = re.compile(r"\d+(?:ki|mi|gi|ti)b")  # "4GiB" is one size, not "4Gi" and a "B"
_ALNUM = frozenset(string.ascii_letters + string.digits)
_WORD = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"\d+")
# The patterns run over every text read start with a character they match, and look behind only after it: the
# regex engine then skips ahead to the candidates instead of trying each position of a long paste. Their numbers
# are possessive (\d*+): giving digits back can never make a match, and trying it cost most of the time.
_STATUS_PLURAL = re.compile(r"([1-5](?<!\w[1-5])\d\d)(s|es|ing|ed)\b")  # "503ing", "500s" -> the status code
_SCHEME = re.compile(r"h(?<!\wh)ttps?://", re.IGNORECASE)  # a URL's scheme says nothing about TLS trouble
_LIBRARY_TERMS = {name: tuple(folded.split()) for name, folded in LIBRARY_ERRORS.items()}
# An empty value where there should be results ("highlights is []", "returned {}") is the word 'empty'.
_EMPTY = re.compile(r"\[\s*\]|\{\s*\}|\"\"")
_EMPTY_VALUE = re.compile(r"(?:\bis|\bare|\breturns?|\breturned|\bgot|=|:)\s*(?:\[\s*\]|\{\s*\}|\"\")")
# Phrases as word sequences, longest first for each first word ("x-api-key" and "x api key" are the same phrase).
_PHRASES_BY_FIRST: dict[str, list[tuple[tuple[str, ...], list[str]]]] = {}
for _phrase, _folded in sorted(PHRASES.items(), key=lambda item: -len(_WORD.findall(item[0]))):
    _seq = tuple(_WORD.findall(_phrase))
    _PHRASES_BY_FIRST.setdefault(_seq[0], []).append((_seq, _folded.split()))
_UNITS = sorted({*DURATION_UNITS, *SIZE_UNITS, "%", "percent"}, key=len, reverse=True)
_UNIT_NAMES = "|".join(re.escape(u) for u in _UNITS)
# Their first letters are checked before the names are tried one by one.
_UNIT_FIRSTS = "".join(sorted({re.escape(u[0]) for u in _UNITS}))
_QUANTITY = re.compile(
    rf"(\d(?<![\w.:/]\d)\d*+(?:[.,]\d++)?+)\+?\s?(?=[{_UNIT_FIRSTS}])({_UNIT_NAMES})(?![a-z0-9])(\+?)"
)
# A share of CPU written as a ratio: "950m/1000m", "3.9 of 4 cores" (units on the whole, so that "3/3 pods" is not one).
_CPU_SHARE = re.compile(
    r"(\d(?<![\w.]\d)\d*+(?:\.\d++)?+)\s?(m|cores?|v?cpus?)?\s*(?:/|of|out of)\s*(\d+(?:\.\d+)?)\s?(m|cores?|v?cpus?)(?![a-z0-9])"
)
# An address on port 53 is a DNS server ("read udp 10.1.2.3:41234->10.96.0.10:53: i/o timeout"); "at 10:53" is a time.
_DNS_PORT = re.compile(r":(?:(?<=\.\d:)|(?<=\.\d\d:)|(?<=\.\d\d\d:)|(?<=[a-z\]]:))53(?!\d)")
# An issue's title, or a message's first sentence: it says what is wrong, what follows adds names and detail.
_HEADING = re.compile(r"[^\n]{8,200}?(?:[.!?](?=\s)|(?=\n))")
_TIMES_OUT = re.compile(r"\btim(?:e|es|ing)\s+out\b")  # "calls time out at 30s" (timed is a limit word)
_BEFORE = re.compile(r"([a-z]+)\W*(?:\d+(?:[.,]\d+)?\s*-\s*)?$")


def _quantity(match: re.Match[str], text: str) -> str:
    """What a number with a unit means: 'slow' (a long wait), 'longrun', 'overload' (saturation), 'memory' or nothing."""
    value, unit = float(match.group(1).replace(",", ".")), match.group(2)
    words_before = set(_WORD.findall(text[max(0, match.start() - 40) : match.start()]))
    if unit in SIZE_UNITS:
        return " " if words_before & THING_WORDS else " memory "  # "a PNG over 10MB" is a file's size
    if unit in ("%", "percent"):
        return " overload " if value >= SATURATED_FROM_PERCENT else " "
    seconds = value * DURATION_UNITS[unit]
    last = _BEFORE.search(text, max(0, match.start() - 24), match.start())
    if last and last.group(1) in INTERVAL_WORDS:
        return " "  # "every 10 seconds": how often, not how long
    window = text[max(0, match.start() - 24) : match.start()]
    near = set(_WORD.findall(window))
    if near & LIMIT_WORDS or _TIMES_OUT.search(window):
        return " timeout "  # "timeout of 120000ms exceeded": the limit that was hit, not a request's time
    if seconds >= HOURS_FROM_SECONDS:
        # "takes 2 hours" is a wait as well as something running for hours
        return " slow longrun " if near & WAITING_WORDS else " longrun "
    return " slow " if seconds >= SLOW_FROM_SECONDS else " "


def _cpu_share(match: re.Match[str]) -> str:
    """A CPU share at or over the saturation line is 'overload'; below it, the numbers say nothing."""
    used, used_unit, whole, unit = match.groups()
    if (used_unit or unit) != unit or not float(whole):
        return " "  # "500m of 2 cores": units that differ are not compared
    return " overload " if 100 * float(used) / float(whole) >= SATURATED_FROM_PERCENT else " "


def terms(text: str, known: Collection[str] = ()) -> list[str]:
    """Concept terms of a text, in order: camelCase split, Chinese, Japanese and Korean incident words read in
    English, phrases, units and synonyms folded, stopwords dropped.

    `known` are words not to read as typos (the matcher passes the words its playbooks use).
    """
    text = _split_mixed_case(_SCHEME.sub(" ", text))
    text = text.lower().replace("'", "").replace("\u2019", "")
    text = in_english(text)
    text = _empty_values(text)
    if _DIGITS.search(text):
        text = _STATUS_PLURAL.sub(r"\1", text)
        text = _QUANTITY.sub(lambda m: _quantity(m, text), text)
        text = _CPU_SHARE.sub(_cpu_share, text)
        text = _DNS_PORT.sub(" dns ", text)
    words = [_spelled(word, known) for word in _WORD.findall(text)]
    out: list[str] = []
    i = 0
    while i < len(words):
        for phrase, folded in _PHRASES_BY_FIRST.get(words[i], ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                out += folded
                i += len(phrase)
                break
        else:
            word = words[i]
            i += 1
            if word in STATUS_CODES and i < len(words) and words[i] in COUNTED:
                continue  # a count of things, not a status
            out += _word_terms(word)
    return out


@functools.lru_cache(maxsize=65536)
def _word_terms(word: str) -> tuple[str, ...]:
    """A word's terms: its concept (or its stem), none for a stopword or a number that is noise."""
    if word in STOPWORDS or (word.isdigit() and not 3 <= len(word) <= 5):
        return ()  # clock times and ids are noise; status codes, exit codes and ports are signal
    if word in _LIBRARY_TERMS:
        return _LIBRARY_TERMS[word]  # read whole, once: "ModuleNotFoundError" is no "not found"
    term = WORDS.get(word) or _stem(word)
    # a status code is also kept as itself: the code is more precise than its concept
    return (term, f"http{word}") if word in STATUS_CODES else (term,)


def _split_mixed_case(text: str) -> str:
    """Words in mixed case split into their parts ("ConnectionRefusedError"), unless the vocabulary knows them
    whole ("BigQuery", "NetworkPolicy": "Big Query" would be any query)."""
    pieces, last = [], 0
    for turn in _CASE_TURN.finditer(text):
        if turn.start() < last:
            continue  # in the word just split
        start = turn.start()
        while start > last and text[start - 1] in _ALNUM:
            start -= 1
        end = turn.end()
        while end < len(text) and text[end] in _ALNUM:
            end += 1
        pieces += [text[last:start], _split_word(text[start:end])]
        last = end
    return "".join(pieces) + text[last:] if pieces else text


@functools.lru_cache(maxsize=65536)
def _split_word(word: str) -> str:
    whole = word.lower()
    if whole in WORDS or whole in LIBRARY_ERRORS or _SIZE.fullmatch(whole):
        return whole
    return _CAMEL.sub(" ", word)


def _empty_values(text: str) -> str:
    """ "highlights is []" -> "highlights empty": the cue is looked for only before an empty value (trying the
    whole pattern at every position of a long text cost more than all the rest of the reading)."""
    pieces, last = [], 0
    for value in _EMPTY.finditer(text):
        cue = _EMPTY_VALUE.search(text, max(last, value.start() - 32), value.end())
        if cue and cue.end() == value.end():
            pieces += [text[last : cue.start()], " empty "]
            last = cue.end()
    return "".join(pieces) + text[last:] if pieces else text


def _spelled(word: str, known: Collection[str]) -> str:
    """The word as meant: a misspelling of a key word is corrected, anything else is left as it is."""
    if (
        len(word) < TYPO_MIN_LENGTH
        or word in WORDS
        or word in STOPWORDS
        or word in known
        or word in NOT_TYPOS
    ):
        return word
    return _typo_cached(word) or word


@functools.lru_cache(maxsize=65536)
def _typo_cached(word: str) -> str | None:
    return _typo(word)


_SIBILANT_ES = re.compile(r"(?:sh|tch|nch|rch|x|ss)es\Z")


def _stem(word: str) -> str:
    """A light suffix stripper so 'uploads'/'uploading' and 'queries'/'query' meet; numbers stay as they are."""
    if word.isdigit() or len(word) <= 4 or word.endswith("ss"):
        return word  # "process", "access" are whole
    if _SIBILANT_ES.search(word):
        return word[:-2]  # "crashes", "fetches", "processes": the "e" belongs to the plural
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
                stem = stem[:-1]  # "running" -> "run", "stopped" -> "stop"
            return stem
    return word


def _typo_index() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """Concept words long enough to have typos folded, and each one-letter-shorter form to the words it comes from.

    Edits of the last letter are not typos here: they make other words ("health"/"healthy", "bounce"/"bouncer").
    """
    targets = frozenset(w for w in WORDS if len(w) >= TYPO_MIN_LENGTH and w.isalpha())
    shorter: dict[str, set[str]] = {}
    for word in targets:
        for i in range(
            len(word) - 1
        ):  # not the last letter: "health"/"healthy", "resolve"/"resolved" are words
            shorter.setdefault(word[:i] + word[i + 1 :], set()).add(word)
    return targets, {k: frozenset(v) for k, v in shorter.items()}


_TYPO_TARGETS, _TYPO_SHORTER = _typo_index()


def _typo(word: str) -> str | None:
    """The key word a misspelling stands for: one insertion, deletion or neighbour swap away, and only one concept."""
    if not word.isalpha():
        return None
    candidates = set(_TYPO_SHORTER.get(word, ()))  # a letter left out: "timout" -> "timeout"
    for i in range(len(word)):
        dropped = word[:i] + word[i + 1 :]  # a letter too many: "connnection" -> "connection"
        if i < len(word) - 1 and dropped in _TYPO_TARGETS:
            candidates.add(dropped)
        if i + 1 < len(word) and word[i] != word[i + 1]:
            swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # neighbours swapped: "databse"
            if swapped in _TYPO_TARGETS:
                candidates.add(swapped)
    concepts = {WORDS[c] for c in candidates}
    return min(candidates) if len(concepts) == 1 else None


def _bigrams(seq: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in itertools.pairwise(seq) if a != b]


def excerpt(text: str) -> str:
    """The part of a text worth reading: all of a short one; of a long paste its head, error lines and tail.

    Lines that repeat (but for their numbers) are read once: a log says the same thing a thousand times.
    """
    if len(text) > HEAD_CHARS + TAIL_CHARS:
        head, tail = text[:HEAD_CHARS], text[-TAIL_CHARS:]
        middle = text[max(HEAD_CHARS, len(text) - TAIL_CHARS - SCAN_CHARS) : len(text) - TAIL_CHARS]
        text = "\n".join([head, *_error_lines(middle), tail])
    if text.count("\n") < MIN_LINES_TO_DEDUPE:
        return text
    lines, seen = [], set()
    for line in text.split("\n"):
        key = _DIGITS.sub("#", line.strip().lower())
        if key not in seen:
            seen.add(key)
            lines.append(line)
    return "\n".join(lines)


def _error_lines(region: str) -> list[str]:
    """Distinct error-looking lines of a region: the first and the last few, in the order of the text.

    Only as many lines are read as it takes to find them (at most MAX_LINES_TRIED from each end), so a paste
    that is errors from end to end costs what one with a single error does. A line longer than MAX_LINE_CHARS
    is cut around the error word, not at its start.
    """
    lowered = region.lower()
    half = MAX_ERROR_LINES // 2
    seen: set[str] = set()
    first: list[tuple[int, str]] = []
    tried = 0  # lines read going forward (counted by hand: the count is read after the loop)
    for pos in _error_positions(lowered, 0, len(region), reverse=False):
        tried += 1  # noqa: SIM113
        _keep(region, lowered, pos, seen, first)
        if len(first) == half:
            break
    else:
        if tried < MAX_LINES_TRIED:
            return [line for _, line in first]  # every error line was read: reading back finds no other
    after_first = 0  # where the last of the first lines ends: the last lines are looked for after it
    if first:
        after_first = region.find("\n", first[-1][0])
        after_first = len(region) if after_first == -1 else after_first
    last: list[tuple[int, str]] = []
    for pos in _error_positions(lowered, after_first, len(region), reverse=True):
        _keep(region, lowered, pos, seen, last)
        if len(last) == half:
            break
    return [line for _, line in first + sorted(last)]


def _keep(region: str, lowered: str, pos: int, seen: set[str], into: list[tuple[int, str]]) -> None:
    """Add the (cut) line around `pos` unless the same message, but for its numbers, was kept already."""
    line_start = lowered.rfind("\n", 0, pos) + 1
    line_end = lowered.find("\n", pos)
    line_end = len(lowered) if line_end == -1 else line_end
    start = max(line_start, min(pos - MAX_LINE_CHARS // 3, line_end - MAX_LINE_CHARS))
    line = region[start : min(line_end, start + MAX_LINE_CHARS)]
    key = _DIGITS.sub("#", line.lower())
    if key not in seen:
        seen.add(key)
        into.append((start, line))


def _error_positions(lowered: str, start: int, end: int, reverse: bool) -> Iterator[int]:
    """Where error words are in lowered[start:end], one per line, from the start (or the end) inwards, at most
    MAX_LINES_TRIED. The words are looked for a chunk of lines at a time: a word that is not in the paste is
    then looked for only as far as the lines read, not through all of it."""
    tried = 0
    for lo, hi in _chunks(lowered, start, end, reverse):
        for pos in _chunk_error_positions(lowered, lo, hi, reverse):
            yield pos
            tried += 1
            if tried == MAX_LINES_TRIED:
                return


def _chunks(lowered: str, start: int, end: int, reverse: bool) -> Iterator[tuple[int, int]]:
    """lowered[start:end] in pieces of whole lines (cut after a newline, so no word spans two), from the start (or
    the end) inwards."""
    if reverse:
        while end > start:
            lo = max(start, lowered.rfind("\n", start, max(start, end - CHUNK_CHARS)) + 1)
            yield lo, end
            end = lo
        return
    while start < end:
        cut = lowered.find("\n", min(end, start + CHUNK_CHARS), end)
        hi = end if cut == -1 else cut + 1
        yield start, hi
        start = hi


def _chunk_error_positions(lowered: str, start: int, end: int, reverse: bool) -> Iterator[int]:
    """Where error words are in one chunk, one per line: each word's next occurrence is kept and only the words
    on the line just read are searched again."""
    find = lowered.rfind if reverse else lowered.find
    next_at = {word: find(word, start, end) for word in ERROR_WORDS}
    while True:
        found = [p for p in next_at.values() if p != -1]
        if not found:
            return
        pos = max(found) if reverse else min(found)
        yield pos
        if reverse:
            line_start = max(start, lowered.rfind("\n", start, pos) + 1)
            for word, at in next_at.items():
                if at >= line_start:
                    next_at[word] = lowered.rfind(word, start, max(start, line_start - 1))
        else:
            line_end = lowered.find("\n", pos, end)
            line_end = end if line_end == -1 else line_end
            for word, at in next_at.items():
                if at != -1 and at <= line_end:
                    next_at[word] = lowered.find(word, line_end, end)


_SPECIAL = set("\\.^$*+?{}[]()|")
# What is not a word in a regex: character classes, escapes, group syntax (see _pattern_words).
_REGEX_PARTS = re.compile(r"\[[^\]]*\]|\\[a-zA-Z]|\(\?(?:[:=!]|<[=!]|P<\w+>)")
_REGEX_SYNTAX = re.compile(r"[\\^$.*+?{}()|]")


def _required_literals(pattern: str) -> tuple[str, ...]:
    """Literals one of which a regex needs to match (lowercased); () when there is nothing to rely on.

    Used to skip a pattern cheaply when none of them is in the text: for each top-level alternative its longest
    plain run or, without one, the literals of a group it cannot match without ("\\b(ErrImagePull|ImagePullBackOff)").
    """
    literals: list[str] = []
    for alternative in _alternatives(pattern):
        run, groups = _plain_runs(alternative)
        if run:
            literals.append(run)
            continue
        needed = [found for group in groups if (found := _required_literals(group))]
        if not needed:
            return ()
        literals += max(needed, key=lambda found: min(map(len, found)))  # the most selective group
    return tuple(literals)


def _alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regex."""
    alternatives, depth, start = [], 0, 0
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            close = pattern.find("]", i + 2)
            i = close + 1 if close != -1 else len(pattern)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            alternatives.append(pattern[start:i])
            start = i + 1
        i += 1
    alternatives.append(pattern[start:])
    return alternatives


def _plain_runs(pattern: str) -> tuple[str, list[str]]:
    """Of a regex without top-level alternation: the longest run of plain characters it needs (lowercased, or ''
    when shorter than 3), and the bodies of the top-level groups it needs (not optional, not a lookaround)."""
    runs, run, depth, i = [], "", 0, 0
    groups: list[str] = []
    group_start = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt.isalnum():  # \b, \d, \s ...: a class or an anchor ends the run
                runs.append(run)
                run = ""
            elif depth == 0:
                run += nxt
            i += 2
            continue
        if char == "[":
            close = pattern.find("]", i + 1)
            i = close + 1 if close != -1 else len(pattern)
            runs.append(run)
            run = ""
            continue
        if char == "(":
            if depth == 0:
                group_start = i + 1
            depth += 1
            runs.append(run)
            run = ""
        elif char == ")":
            depth -= 1
            if depth == 0 and not pattern.startswith(("?", "*", "{0", "{,"), i + 1):
                groups.append(pattern[group_start:i])
        elif char in "*?{":
            run = run[:-1]  # the last character may be absent
            runs.append(run)
            run = ""
            if char == "{":
                close = pattern.find("}", i)
                i = close if close != -1 else i
        elif char in "+.^$":
            runs.append(run)
            run = ""
        elif depth == 0:
            run += char
        i += 1
    runs.append(run)
    best = max(runs, key=len).lower()
    return (best if len(best) >= 3 else ""), [
        _group_body(g) for g in groups if not g.startswith(("?=", "?!", "?<"))
    ]


def _pattern_words(pattern: str) -> str:
    """The words a regex spells out: character classes, escapes and group syntax dropped."""
    return _REGEX_SYNTAX.sub(" ", _REGEX_PARTS.sub(" ", pattern))


def _group_body(group: str) -> str:
    """A group's regex without its '?:' or '?P<name>' prefix."""
    if group.startswith("?:"):
        return group[2:]
    if group.startswith("?P<"):
        return group[group.index(">") + 1 :]
    return group


@dataclass
class _Doc:
    playbook: Playbook
    tf: dict[str, float]
    length: float
    phrases: list[tuple[str, tuple[str, ...]]]
    patterns: list[tuple[tuple[str, ...], re.Pattern[str]]]
    alerts: list[tuple[str, str]]


@dataclass(frozen=True)
class Match:
    """One ranked playbook and why it was picked."""

    playbook: Playbook
    score: float
    why: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MatchResult:
    """The ranking for a query; `abstained` means no candidate cleared the confidence floor.

    `not_incident` says why the text was not taken as an incident ("a feature request", "a documentation report",
    "a how-to question"); the matcher then abstains whatever the scores, and still shows the closest candidates.
    """

    query: str
    service: str | None
    abstained: bool
    matches: list[Match]
    not_incident: str | None = None

    @property
    def best(self) -> Match | None:
        return None if self.abstained or not self.matches else self.matches[0]

    def to_json(self) -> dict[str, object]:
        return {
            "query": self.query,
            "service": self.service,
            "abstained": self.abstained,
            "not_incident": self.not_incident,
            "matches": [
                {
                    "id": m.playbook.id,
                    "title": m.playbook.title,
                    "guide": m.playbook.guide,
                    "section": m.playbook.source.section,
                    "score": round(m.score, 2),
                    "why": m.why,
                }
                for m in self.matches
            ],
        }


def _with_learned(scored: list[tuple[Match, bool]], reading: Reading, top: int) -> list[Match]:
    """The best `top` candidates ranked again with what the learned model says of each: its probability that the
    text is one of the playbook's incidents adds up to the best score's worth (LEARNED_WEIGHT). The rules' scores
    alone decide whether anything fits; the model reorders what does, and when the best quotes an error string or
    an alert, only among the candidates that do: the model weighs words, not evidence."""
    best, evidence = scored[0][0].score, scored[0][1]
    ranked = []
    for match, strong in scored:
        p = reading.playbooks.get(match.playbook.id, 0.0)
        score = match.score + LEARNED_WEIGHT * best * p
        ranked.append((evidence and not strong, -score, match.playbook.id, match, p))
    ranked.sort(key=lambda row: row[:3])
    return [
        Match(
            match.playbook,
            -score,
            [*match.why, f"reads like its reports ({p:.0%})"] if p >= LEARNED_SHOWN else match.why,
        )
        for _, score, _, match, p in ranked[:top]
    ]


class Matcher:
    """An index over playbooks; build once, query many times (thread-safe: queries only read)."""

    def __init__(self, playbooks: Iterable[Playbook], hints: Mapping[str, str] | None = None) -> None:
        """`hints` maps names seen in text (services, aliases, namespaces, deployments) to their guide."""
        playbooks = list(playbooks)
        self.known = frozenset(word for p in playbooks for word in _WORD.findall(_indexed_text(p).lower()))
        self.docs = [self._index(p) for p in playbooks]
        self.hints = [
            (name.lower(), guide, re.compile(rf"(?<![a-z0-9-]){re.escape(name.lower())}(?![a-z0-9])"))
            for name, guide in sorted((hints or {}).items())
        ]
        n = len(self.docs)
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.tf.keys())
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.avg_length = sum(d.length for d in self.docs) / n if n else 1.0
        norms = [K1 * (1 - B + B * d.length / self.avg_length) for d in self.docs]
        # Each term's BM25 gain per playbook depends on the playbooks alone: computed once, not per query.
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for i, doc in enumerate(self.docs):
            for term, tf in doc.tf.items():
                weight = (
                    TERM_WEIGHTS.get(term, 1.0 if term in CONCEPTS or "_" in term else W_PLAIN_WORD)
                    * self.idf[term]
                )
                self.postings.setdefault(term, []).append((i, weight * tf * (K1 + 1) / (tf + norms[i])))
        # Inverted indexes for the evidence: patterns by literal, phrases by first term, alert names flat.
        self.by_literal: dict[str, list[tuple[int, int]]] = {}
        self.always_run: list[tuple[int, int]] = []
        self.phrases_by_first: dict[str, list[tuple[int, str, tuple[str, ...], frozenset[str]]]] = {}
        self.alerts = [(i, name, lowered) for i, d in enumerate(self.docs) for name, lowered in d.alerts]
        for i, doc in enumerate(self.docs):
            for k, (literals, _) in enumerate(doc.patterns):
                for literal in literals:
                    self.by_literal.setdefault(literal, []).append((i, k))
                if not literals:
                    self.always_run.append((i, k))
            for phrase, pseq in doc.phrases:
                self.phrases_by_first.setdefault(pseq[0], []).append((i, phrase, pseq, frozenset(pseq)))
        # Every literal and alert name is looked for in one pass over the text (Aho-Corasick, in C) rather than one
        # search each: with hundreds of them, those searches were a fifth of the time of reading a long paste.
        self.needles = _automaton([*self.by_literal, *(lowered for _, _, lowered in self.alerts)])
        self.docs_terms = {d.playbook.id: frozenset(d.tf) for d in self.docs}
        self.learned = learned()  # loaded with the index, not on the first query
        # The learned models know the playbooks they were trained on: with any other in play (an imported guide's),
        # the rules alone rank and abstain, or the models would refuse its texts and favour the bundled playbooks.
        trained = set(self.learned.playbook_ids)
        self.learned_for: dict[str | None, bool] = {None: all(d.playbook.id in trained for d in self.docs)}
        for doc in self.docs:
            guide_known = self.learned_for.get(doc.playbook.guide, True)
            self.learned_for[doc.playbook.guide] = guide_known and doc.playbook.id in trained

    def _index(self, playbook: Playbook) -> _Doc:
        tf: dict[str, float] = {}
        fields: list[tuple[float, list[str]]] = [
            (W_TITLE, [playbook.title, playbook.source.section]),
            (W_SUMMARY, [playbook.summary]),
            (W_SYMPTOM, playbook.symptoms),
            (W_PHRASE, playbook.signals.phrases + playbook.signals.alerts),
            (W_PATTERN, [_pattern_words(p) for p in playbook.signals.patterns]),
        ]
        for weight, texts in fields:
            for text in texts:
                seq = terms(text, self.known)
                for term in set(seq) | set(_bigrams(seq)):
                    tf[term] = tf.get(term, 0.0) + weight
        phrases = [(p, tuple(terms(p, self.known))) for p in playbook.signals.phrases + playbook.symptoms]
        return _Doc(
            playbook=playbook,
            tf=tf,
            length=sum(tf.values()),
            phrases=[(text, seq) for text, seq in phrases if len(seq) >= 2],
            patterns=[
                (_required_literals(p), re.compile(p, re.IGNORECASE)) for p in playbook.signals.patterns
            ],
            alerts=[(a, a.lower()) for a in playbook.signals.alerts],
        )

    def match(
        self, text: str, guide: str | None = None, service: str | None = None, top: int = 3
    ) -> MatchResult:
        """Rank the playbooks (of one guide, if given) for a text; the best `top` come back with reasons."""
        read, seq = self._read(text)
        lowered = read.lower()
        positions: dict[str, list[int]] = {}
        for i, term in enumerate(seq):
            positions.setdefault(term, []).append(i)
        query_terms = set(seq) | set(_bigrams(seq))
        named = (
            {}
            if guide
            else {g: n for n, g, pattern in self.hints if n in lowered and pattern.search(lowered)}
        )
        in_play = [i for i, d in enumerate(self.docs) if guide is None or d.playbook.guide == guide]
        bm25 = self._bm25(query_terms, in_play)
        evidence = self._evidence(read, lowered, positions)
        scored = []
        for i in in_play:
            doc = self.docs[i]
            bonus, reasons, strong = evidence.get(i, (0.0, [], False))
            why = list(reasons)
            gain, words = bm25.get(i, (0.0, []))
            score = bonus + gain
            if words:
                why.append("terms: " + ", ".join(words))
            if score > 0 and len(named) == 1 and doc.playbook.guide in named:
                score *= HINT_BOOST
                why.append(f"mentions {named[doc.playbook.guide]}")
            if score > 0:
                scored.append((Match(doc.playbook, score, why), strong))
        scored.sort(key=lambda pair: (-pair[0].score, pair[0].playbook.id))
        # An error string quoted is something failing, whatever else the text says ("Target database is not up
        # to date" is no report on the docs), so only the strong cues of a request still count.
        reason = not_incident(read[:INTENT_CHARS], quotes_an_error=any(strong for _, strong in scored))
        if scored and not scored[0][1] and any(f"http{code}" in positions for code in STATUS_CODES):
            best, _ = scored[0]  # a status code is evidence as plain as an error string
            if any(
                f"http{code}" in self.docs_terms[best.playbook.id]
                for code in STATUS_CODES
                if f"http{code}" in positions
            ):
                scored[0] = (best, True)
        troubled = not SYMPTOM_CONCEPTS.isdisjoint(seq) or any(
            word in SYMPTOM_WORDS or word.endswith(("error", "exception"))
            for word in _WORD.findall(in_english(lowered).replace("'", "").replace("\u2019", ""))
        )
        reading = self.learned.read(features(read, seq)) if scored and self.learned_for.get(guide) else None
        abstained = (
            not scored
            or reason is not None
            or not self._confident(self._explained(read, seq), len(in_play), troubled, *scored[0])
            # A text that reads unlike the catalogue's incidents is no match for it, unless it quotes an error
            # string or an alert a playbook knows: the model weighs words, not evidence.
            or (reading is not None and not scored[0][1] and reading.outside)
        )
        return MatchResult(
            query=text,
            service=service,
            abstained=abstained,
            matches=_with_learned(scored, reading, top)
            if reading is not None
            else [m for m, _ in scored[:top]],
            not_incident=reason,
        )

    def _read(self, text: str) -> tuple[str, list[str]]:
        """The text as matched (a long paste's excerpt, without redaction markers) and its terms."""
        # A redacted secret says nothing about the symptom: "[REDACTED SLACK TOKEN]" is no report on Slack.
        read = MARKER.sub(" ", excerpt(text))
        return read, terms(read, self.known)

    def learned_features(self, text: str) -> set[str]:
        """What the learned models read of a text (benchmarks/train_learned.py trains them on the same)."""
        return features(*self._read(text))

    def _bm25(self, query_terms: set[str], in_play: list[int]) -> dict[int, tuple[float, list[str]]]:
        """BM25 gain per playbook in play, with its strongest single-word terms (for the explanation)."""
        allowed = None if len(in_play) == len(self.docs) else set(in_play)
        gains: dict[int, list[tuple[float, str]]] = {}
        for term in query_terms:
            for i, gain in self.postings.get(term, ()):
                if allowed is None or i in allowed:
                    gains.setdefault(i, []).append((gain, term))
        out = {}
        for i, contributions in gains.items():
            contributions.sort(reverse=True)
            words = [t for _, t in contributions if "_" not in t][:4]
            out[i] = (sum(g for g, _ in contributions), words)
        return out

    def _evidence(
        self, text: str, lowered: str, positions: dict[str, list[int]]
    ) -> dict[int, tuple[float, list[str], bool]]:
        """Error strings, alert names and phrases found in the text, per playbook: bonus, reasons, strong or not.

        Only the patterns whose literal is in the text and the phrases whose first term is run (inverted indexes).
        """
        found: dict[int, list[tuple[int, str]]] = {}
        seen = {needle for _, needle in self.needles.iter(lowered)} if self.needles else set()
        present = sorted(seen.intersection(self.by_literal), key=lambda literal: (-len(literal), literal))
        candidates: dict[tuple[int, int], None] = {}  # ordered: the most specific literals first
        for literal in present:
            candidates.update(dict.fromkeys(self.by_literal[literal]))
        candidates.update(dict.fromkeys(self.always_run))
        # A text that holds the literals of dozens of patterns (a paste of many logs) gets the most specific
        # ones searched; the bound keeps the cost flat.
        for i, k in sorted(list(candidates)[:MAX_PATTERN_SEARCHES]):
            literals, pattern = self.docs[i].patterns[k]
            hit = _search(pattern, literals, text, lowered)
            if hit:
                found.setdefault(i, []).append((k, f"error string '{hit.group(0).strip()}'"))
        alerts: dict[int, list[str]] = {}
        for i, name, lowered_name in self.alerts:
            if lowered_name not in seen:
                continue
            start = lowered.find(lowered_name)
            while start != -1 and not _whole_word(lowered, start, len(lowered_name)):
                start = lowered.find(lowered_name, start + 1)
            if start != -1:
                alerts.setdefault(i, []).append(f"alert {name}")
        phrases: dict[int, list[str]] = {}
        in_text = set(positions)  # a phrase is looked for in order only when the text has all its terms
        contained: dict[tuple[str, ...], bool] = {}  # playbooks share phrases: each is looked for once
        for term in positions:
            for i, phrase, pseq, needed in self.phrases_by_first.get(term, ()):
                if needed <= in_text:
                    if pseq not in contained:
                        contained[pseq] = _contains(pseq, positions)
                    if contained[pseq]:
                        phrases.setdefault(i, []).append(phrase)
        out: dict[int, tuple[float, list[str], bool]] = {}
        for i in set(found) | set(alerts) | set(phrases):
            why = [reason for _, reason in sorted(found.get(i, []))]
            score = PATTERN_BONUS + PATTERN_BONUS / 3 * (len(why) - 1) if why else 0.0
            why += alerts.get(i, [])
            score += ALERT_BONUS * len(alerts.get(i, []))
            strong = bool(why)
            if i in phrases:
                order = {p: n for n, (p, _) in enumerate(self.docs[i].phrases)}
                matched = sorted(set(phrases[i]), key=order.__getitem__)
                score += PHRASE_BONUS
                why += [f"phrase '{p}'" for p in matched[:2]]
            out[i] = (score, why, strong)
        return out

    def _explained(self, read: str, seq: list[str]) -> float:
        """How much of the text the catalogue explains: of all of it, or of its first sentence if that is more."""
        explained = self._coverage(seq)
        heading = _HEADING.match(read)
        if heading and heading.end() < len(read.rstrip()):
            explained = max(explained, self._coverage(terms(heading.group(0), self.known)))
        return explained

    def _coverage(self, seq: list[str]) -> float:
        """How much of the text the catalogue explains: concept words fully, other known words by half.

        Numbers the catalogue does not know (ids, addresses, counts) are left out rather than counted against.
        """
        words = {t for t in seq if not (t.isdigit() and t not in self.idf)}
        explained = sum(1.0 if t in CONCEPTS else COVERAGE_PLAIN_WORD for t in words if t in self.idf)
        return explained / max(1, len(words))

    def _confident(self, coverage: float, in_play: int, troubled: bool, best: Match, strong: bool) -> bool:
        """An error string or alert matched, or the score is high enough for the playbooks in play and the text explained.

        A text with no word of trouble in it (`troubled` false) needs the whole catalogue's floor.
        """
        share = max(
            MIN_FLOOR_SHARE, (math.log(max(2, in_play)) / math.log(max(2, len(self.docs)))) ** FLOOR_POWER
        )
        low, floor, sure = LOW_SCORE * share, MIN_SCORE * share, SURE_SCORE * share
        if not (strong or troubled):
            # Only names things: it takes many agreeing terms, however few playbooks are in play.
            return best.score >= SURE_SCORE and coverage >= MIN_COVERAGE
        if strong or best.score >= sure:
            return best.score >= low
        if coverage >= HIGH_COVERAGE:
            return best.score >= low
        return coverage >= MIN_COVERAGE and best.score >= floor


def _search(
    pattern: re.Pattern[str], literals: tuple[str, ...], text: str, lowered: str
) -> re.Match[str] | None:
    """Search a pattern only in the lines that hold one of its literals (the whole text when it has none)."""
    if not literals or len(lowered) != len(text):
        return pattern.search(text)
    for literal in literals:
        pos, tries = lowered.find(literal), 0
        while pos != -1 and tries < MAX_TRIES_PER_LITERAL:
            start = lowered.rfind("\n", 0, pos) + 1
            end = lowered.find("\n", pos + len(literal))
            end = len(lowered) if end == -1 else end
            found = pattern.search(text, start, end)
            if found:
                return found
            pos, tries = lowered.find(literal, end), tries + 1
    return None


def _indexed_text(playbook: Playbook) -> str:
    signals = playbook.signals
    return " ".join(
        [
            playbook.title,
            playbook.source.section,
            playbook.summary,
            *playbook.symptoms,
            *signals.phrases,
            *signals.alerts,
        ]
    )


def _automaton(needles: list[str]) -> ahocorasick.Automaton | None:
    """A finder of every needle in a text at once (None without needles: an empty one cannot search)."""
    if not needles:
        return None
    automaton = ahocorasick.Automaton()
    for needle in needles:
        automaton.add_word(needle, needle)
    automaton.make_automaton()
    return automaton


def _whole_word(text: str, start: int, length: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[start + length] if start + length < len(text) else " "
    return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")


def _contains(sub: tuple[str, ...], positions: Mapping[str, list[int]]) -> bool:
    """True when the terms of `sub` occur in the text in order, gaps allowed, each within 2 * len(sub) terms of
    the first; `positions` holds each term's places in order, and the caller has seen that all of `sub` is there."""
    reach = 2 * len(sub)
    for start in positions[sub[0]]:
        at = start
        for term in sub[1:]:
            places = positions[term]
            j = bisect.bisect_right(places, at)  # its first place after the term before
            if j == len(places) or places[j] > start + reach:
                break
            at = places[j]
        else:
            return True
    return False
