"""Words a pattern cannot match without, so a sentence lacking all of them skips the pattern.

Python's `re` tries every branch of a long alternation at every position, which made the
auto-coder too slow for a whole council's notes. Reading each pattern's own source for the words
one of which any match must contain lets us test a set intersection first. When a branch has no
such word the answer is None (always run the pattern); tests check gated and ungated coding agree.
"""

from __future__ import annotations

import re

# frequent words are poor triggers: prefer a branch's rarer words when there is a choice
_COMMON = {"is", "was", "are", "were", "be", "been", "the", "to", "not", "no", "in", "it", "my",
           "have", "has", "had", "by", "with", "what", "that", "they", "would", "out", "put",
           "away", "of", "and", "or", "on", "at", "as", "for", "his", "her", "their", "he", "she"}


def _scan(src: str):
    """(piece, depth, plain) for each character or escape of a regex: the group depth after it,
    and whether it is a bare character outside a character class (so "|" or ")" is syntax)."""
    depth, in_class, i = 0, False, 0
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            yield src[i:i + 2], depth, False
            i += 2
            continue
        plain = not in_class
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        yield ch, depth, plain
        i += 1


def _split_top(src: str) -> list[str]:
    """The top-level alternatives of a regex fragment."""
    alts, cur = [], ""
    for piece, depth, plain in _scan(src):
        if piece == "|" and plain and depth == 0:
            alts.append(cur)
            cur = ""
        else:
            cur += piece
    alts.append(cur)
    return alts


def lowered(pattern: re.Pattern) -> re.Pattern:
    """The same pattern, case-sensitive, for lower-cased text: Python's re is three to six times
    slower on a long case-insensitive alternation. Only for a pattern wholly inside one (?i:...)."""
    src = pattern.pattern
    if not src.startswith("(?i:"):
        return pattern
    out, pos = [], 0
    for piece, depth, plain in _scan(src):
        pos += len(piece)
        if piece == ")" and plain and depth == 0 and pos != len(src):
            return pattern  # something after the (?i:...) group is case-sensitive
        out.append(piece if piece.startswith("\\") else piece.lower())
    return re.compile("(?:" + "".join(out)[4:])


def _words_and_groups(alt: str) -> tuple[list[str], list[str]]:
    """Whole literal words outside any group, and the groups that must match, of one branch."""
    groups: list[str] = []
    flat, depth, in_class, start, i = "", 0, False, 0, 0
    while i < len(alt):
        ch = alt[i]
        if ch == "\\":
            if depth == 0:
                flat += " " if alt[i + 1] in "bswdBSWD" else "\x01"
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
            i += 1
            continue
        if ch == "[":
            in_class = True
            flat += "\x01" if depth == 0 else ""
        elif ch == "(":
            start = i if depth == 0 else start
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                inner = alt[start + 1:i]
                optional = alt[i + 1:i + 2] in ("?", "*")
                look = inner.startswith(("?=", "?!", "?<=", "?<!"))
                inner = re.sub(r"^\?(?:[a-z]*:)", "", inner)
                if not (optional or look):
                    groups.append(inner)
                flat += "" if look else "\x01"  # a lookaround matches no text: "said(?! no)" ends a word
        elif depth == 0:
            flat += ch
        i += 1
    flat = re.sub(r"[A-Za-z-][?*]", "\x01", flat)  # a letter or hyphen made optional joins words
    words = [m.group(0).lower() for m in re.finditer(r"[A-Za-z]{2,}", flat)
             if (m.start() == 0 or flat[m.start() - 1] in " \t-")
             and (m.end() == len(flat) or flat[m.end()] in " \t.,:;-")]
    return words, groups


def _cost(words: set[str]) -> tuple[int, int]:
    return (sum(w in _COMMON for w in words), len(words))


def triggers(pattern: str) -> frozenset[str] | None:
    """Lower-case words, one of which is a whole token of any text the pattern matches; None
    when that cannot be said."""
    out: set[str] = set()
    for alt in _split_top(pattern):
        words, groups = _words_and_groups(alt)
        options = [{w} for w in words]
        options += [set(t) for g in groups if (t := triggers(g)) is not None]
        if not options:
            return None
        out |= min(options, key=_cost)
    return frozenset(out)
