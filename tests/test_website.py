"""The website follows params/: a new site's params file puts it in the navbar and on the
home page with no other edit."""

import re
import shutil

import nbformat
import yaml

from hampshire_research import website
from hampshire_research.paths import params_dir, project_root
from hampshire_research.run import cross_site_notebooks, site_notebooks

ROOT = project_root()
# The properties Quarto's schema allows on a navigation item (quarto-cli,
# src/resources/schema/definitions.yml, `navigation-item-object`, a closed object); an item
# may also be a bare path.
QUARTO_ITEM_KEYS = {"aria-label", "file", "href", "icon", "id", "menu", "text", "url", "rel",
                    "target"}


def _items(items):
    for item in items:
        yield item
        if isinstance(item, dict):
            yield from _items(item.get("menu", []))


def test_a_third_params_file_appears_in_the_navbar_and_on_the_home_page(tmp_path):
    params = tmp_path / "params"
    shutil.copytree(params_dir(), params)
    text = (params / "north_yorkshire.yaml").read_text(encoding="utf-8")
    text = text.replace("site: north_yorkshire", "site: somerset").replace(
        "display_name: North Yorkshire", "display_name: Somerset")
    (params / "somerset.yaml").write_text(text, encoding="utf-8")
    nav, listing = website.write_site_files(tmp_path, params)

    left = yaml.safe_load(nav.read_text())["website"]["navbar"]["left"]
    menus = {item["text"]: item.get("menu") for item in left}
    assert list(menus)[:4] == ["Home", "Hampshire", "North Yorkshire", "Somerset"]
    pages = [p if isinstance(p, str) else p["href"] for p in menus["Somerset"]]
    assert pages[0] == "reports/somerset/07_dashboard.ipynb"
    assert pages == ["reports/somerset/07_dashboard.ipynb"] + [
        f"reports/somerset/{p.name}" for p in site_notebooks() if p.name != "07_dashboard.ipynb"]
    assert "reports/compare/09_reproducibility.ipynb" in [i.get("href") for i in left]
    for item in _items(left):  # what Quarto's schema accepts
        assert isinstance(item, str) or (set(item) <= QUARTO_ITEM_KEYS and
                                         ("href" in item or "menu" in item)), item
    # the menu names the site, so its items are the pages' own titles
    assert menus["Somerset"][0]["text"] == "Dashboard"
    assert "Site profile" in [p["text"] for p in menus["Somerset"]]
    assert "[Somerset](reports/somerset/07_dashboard.ipynb)" in listing.read_text()
    assert len(listing.read_text().splitlines()) == 3


def test_a_sites_page_titles_name_the_site():
    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Site profile\n\nWho?")])
    website.name_site_in_title(page, "North Yorkshire")
    assert page.cells[0].source == "# Site profile — North Yorkshire\n\nWho?"
    dashboard = nbformat.v4.new_notebook(cells=[nbformat.v4.new_raw_cell(
        '---\ntitle: "Dashboard"\nformat: dashboard\nnav-buttons: []\n---')])
    website.name_site_in_title(dashboard, "Hampshire")
    front = yaml.safe_load(dashboard.cells[0].source.split("---")[1])
    assert front == {"title": "Dashboard — Hampshire", "format": "dashboard", "nav-buttons": []}
    assert website.page_title(dashboard) == "Dashboard — Hampshire"


def test_the_site_takes_its_menus_from_the_generated_files():
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    assert website.NAVBAR_FILE in config["metadata-files"]
    assert "navbar" not in config["website"]  # one copy: the generated one
    assert "reports/*/*.ipynb" in config["project"]["render"]
    assert f"{{{{< include {website.SITES_FILE} >}}}}" in (ROOT / "index.qmd").read_text()
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert website.NAVBAR_FILE in ignored and website.SITES_FILE in ignored
    # Quarto adds "/.quarto/" to .gitignore at every render unless that exact line is there
    # (quarto-cli, src/project/project-gitignore.ts, kQuartoIgnore), leaving git status dirty
    assert "/.quarto/" in ignored
    # every page the generated navbar names exists or is made by a run
    nav = website.navbar(params_dir(), site_notebooks(), cross_site_notebooks())
    hrefs = [i["href"] if isinstance(i, dict) else i for item in nav["website"]["navbar"]["left"]
             for i in ([item] if "href" in item else item["menu"])]
    static = [h for h in hrefs if h.endswith(".qmd")]
    assert static and all((ROOT / h).is_file() for h in static)


def test_readers_see_no_code_and_no_fonts_from_outside():
    """Code is never echoed nor offered in a toggle; the theme turns off the Google Fonts import
    that cosmo makes through Bootstrap's $web-font-path (bootswatch skips it when false)."""
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    html = config["format"]["html"]
    assert config["execute"]["echo"] is False and html["echo"] is False
    assert html["code-fold"] is False and html["code-tools"] is False
    theme = [t for t in html["theme"] if t.endswith(".scss")]
    assert theme and "reports/*/tables/*.csv" in config["project"]["resources"]
    scss = (ROOT / theme[0]).read_text()
    assert "/*-- scss:defaults --*/" in scss and "$web-font-path: false;" in scss
    assert "http" not in scss and "@import" not in scss


def test_the_home_page_links_every_place_to_go_and_says_how_to_view_the_site():
    home = (ROOT / "index.qmd").read_text(encoding="utf-8")
    where = home.split("## Where to go")[1].split("\n## ")[0]
    items = where.split("\n- ")[1:]
    assert len(items) == 4 and all("](reports/" in i for i in items), items
    view = home.split("## How to view this site")[1]
    assert "hampshire-research preview" in view and "shared drive" in view


def _dashboards():
    return [p for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if website._is_dashboard(p)]


def test_dashboard_rows_are_sized_by_content_or_in_pixels_with_the_notice_first():
    """Percentage heights squeezed value boxes to their titles and the notice to nothing at
    1280x720 and 1920x1080 (issue 15); rows that flow or have pixel heights on a scrolling
    page do not."""
    assert len(_dashboards()) == 2
    for path in _dashboards():
        cells = nbformat.read(path, as_version=4).cells
        front = yaml.safe_load(cells[0].source.split("---")[1])
        assert front["format"] == "dashboard" and front["scrolling"] is True, path.name
        rows = [i for i, c in enumerate(cells) if c.cell_type == "markdown"
                and c.source.startswith("## ")]
        assert len(rows) >= 3, path.name
        for i in rows:
            attrs = cells[i].source.partition("{")[2].rstrip("}")
            assert attrs == ".flow" or re.fullmatch(r'height="\d+px"', attrs), cells[i].source
        assert cells[rows[0] + 1].source.startswith("#| title: About these figures"), path.name


def test_every_table_of_every_notebook_goes_through_page_table():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                         if c.cell_type == "code")
        for raw in (".to_markdown(", ".to_html(", ".style", "display(df"):
            assert raw not in code, f"{path.name}: {raw}"
