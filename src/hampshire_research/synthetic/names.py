"""Name lists for synthetic people and the ways names drift between systems (nicknames, typos,
variant spellings). Lists are common English given names and surnames, invented combinations."""

from __future__ import annotations

from functools import cache

import numpy as np
from nicknames import NickNamer

GIRLS = """Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Willow Freya Florence
Emily Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper Matilda
Ruby Emilia Maya Millie Isabelle Eva Luna Jessica Ellie Aria Esme Chloe Scarlett Imogen Layla Lucy
Holly Zara Hannah Megan Amy Abigail Katie Lauren Bethany Leah Molly Niamh Erin Georgia Paige Jasmine
Eleanor Summer Lacey Mollie Maisie Darcy Violet Aisha Fatima Amira Zainab Maryam Priya Anaya Nadia
Kayla Courtney Jade Shannon Tia Keira Demi Chantelle Caitlin Rebecca Samantha Natalie Victoria
Elizabeth Katherine Margaret Jennifer Rachel Laura Sarah Emma Kirsty Danielle Gemma Stacey""".split()
BOYS = """Oliver George Noah Arthur Muhammad Leo Harry Oscar Archie Henry Theodore Freddie Jack
Charlie Theo Alfie Jacob Thomas Finley Arlo William Lucas Roman Tommy Isaac Teddy Alexander Luca
Edward James Joshua Albie Elijah Max Mohammed Reggie Hunter Louie Ronnie Rory Ethan Daniel Samuel
Joseph Benjamin Dylan Harrison Logan Mason Jayden Tyler Callum Kieran Connor Liam Ryan Jordan Bradley
Lewis Nathan Kyle Jake Luke Matthew Michael Christopher Andrew Robert Richard Anthony Stephen Adam
Ibrahim Yusuf Ali Omar Hamza Zayn Arjun Rohan Kai Jamal Kofi Tobias Sebastian Frederick Nicholas
Patrick Peter Timothy Zachary Reuben Stanley Albert Louis Ezra Jenson Riley Aaron Brandon""".split()
SURNAMES = """Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson
Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner
Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips
Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins
Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson
Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes
Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham
Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox
Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien
Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett
Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins
Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner Shah Dean Lane Cooke
Bates Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren
Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman
Watkins Moss McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon
Doyle Wallace George Jordan Hutchinson Rowe Burke May Pritchard Gilbert Willis Higgins Read Miles
Stevenson Stephenson Hammond Arnold Buckley Walters Hewitt Barber Nelson Slater Austin Sullivan
Whitehead Mann Frost Lambert Stephens Blake Akhtar Lynch Goodwin Barton Woodward Thomson Cunningham
Quinn Barnett Baxter Bibi Clayton Nash Greenwood Jennings Holt Kemp Poole Gallagher Bond Stokes
Tucker Davidson Fowler Heath Norman Middleton Lawson Banks French Stanley Jarvis Gibbs Ferguson
Hayward Carroll Douglas Hicks Dodd Wilkins Fraser Dennis Kaye Whittaker Pollard Storey""".split()

_NN = NickNamer()


@cache
def nickname_variants(name: str) -> tuple[str, ...]:
    """Nicknames and variants of a forename from the `nicknames` package, title-cased and sorted
    so the choice is deterministic."""
    found = sorted({v.title() for v in _NN.nicknames_of(name.lower())} - {name})
    return tuple(v for v in found if 2 < len(v) < len(name) + 3)


KEYBOARD = {c: n for c, n in zip("abcdefghijklmnopqrstuvwxyz", "sxdfrgyjokljnmplwtdyibeczt")}


def typo(name: str, r: float, r2: float) -> str:
    """One keying error: a dropped, doubled, swapped or mistyped letter (position from r, kind
    from r2, both uniforms so the caller's generator fixes the result)."""
    if len(name) < 3:
        return name
    i = 1 + int(r * (len(name) - 2))
    kind = int(r2 * 4)
    if kind == 0:
        return name[:i] + name[i + 1:]
    if kind == 1:
        return name[:i] + name[i] + name[i:]
    if kind == 2:
        return name[:i - 1] + name[i] + name[i - 1] + name[i + 1:]
    c = name[i].lower()
    return name[:i] + KEYBOARD.get(c, c) + name[i + 1:]


def apply_nicknames(names: np.ndarray, u: np.ndarray) -> np.ndarray:
    out = names.astype(object).copy()
    for k, (n, x) in enumerate(zip(names, u)):
        v = nickname_variants(n)
        if v:
            out[k] = v[int(x * len(v))]
    return out


def apply_typos(names: np.ndarray, u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    return np.array([typo(n, a, b) for n, a, b in zip(names, u1, u2)], dtype=object)
