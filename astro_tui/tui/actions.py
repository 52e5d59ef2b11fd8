"""Every key of the app, declared once.

One `Action` per thing a key does: its id, its keys, the words shown in the footer, the palette
and the help screen, its help group, whether it changes Airflow, and where it is bound. The
bindings of the app, the main screen, the tables and the log view, the help screen (`?`), the
palette's write commands, read-only filtering and the README's key table are all made from
`ACTIONS`; `tests/unit/test_actions_table.py` fails when the README disagrees.

`scope` says who binds the key: "app", "main" (the main screen), "table" (every list pane),
"log" (the log pane), "trigger" (the conf editor). None: the key belongs to a Textual widget
(Enter on a table, the arrows) and is only documented here.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Action:
    id: str  # the action's name and its binding id
    keys: str  # Textual key names, comma-separated ("" for documented-only keys)
    label: str  # the keys as a person reads them ("Tab / Shift+Tab")
    help: str  # what it does, in the help screen and the README
    group: str  # help-screen group
    scope: str | None = None
    title: str = ""  # footer / palette words
    action: str | None = None  # the Textual action, when not `id` ("page(1)")
    show: bool = True  # in the footer
    priority: bool = False
    writes: bool = False  # changes Airflow: hidden in read-only mode
    palette: str = ""  # the write action's palette title
    readme: bool = True  # a row of the README's key table (grouped rows have `False`)

    def binding(self) -> Binding:
        return Binding(self.keys, self.textual_action, self.title, show=self.show,
                       priority=self.priority, id=self.id)

    @property
    def textual_action(self) -> str:
        """What the key runs: `action`, else a write's `write('<id>')`, else the id."""
        if self.action:
            return self.action
        return f"write({self.id!r})" if self.writes else self.id


ACTIONS: tuple[Action, ...] = (
    # -- Move --------------------------------------------------------------------------------
    Action("next_pane", "tab", "Tab / Shift+Tab", "next / previous pane", "Move", "main",
           "Next pane", action="pane(1)", show=False, priority=True),
    Action("prev_pane", "shift+tab", "", "", "Move", "main", "Prev pane", action="pane(-1)",
           show=False, priority=True, readme=False),
    Action("drill", "", "Enter", "drill down: DAG → runs → tasks → log (on the overview: "
           "open the row; a failed run opens on its first failed task's log)", "Move"),
    Action("overview", "o", "o", "the overview: health, failure inbox, every DAG", "Move",
           "main", "Overview", action="app.overview"),
    Action("back", "escape", "Esc", "back up one pane (or close the filter)", "Move", "main",
           "Back", show=False),
    Action("cursor_down", "j", "j / k, ↓ / ↑", "down / up", "Move", "table", "Down",
           show=False),
    Action("cursor_up", "k", "", "", "Move", "table", "Up", show=False, readme=False),
    Action("first", "g", "g / G", "top / bottom", "Move", "table", "Top", show=False),
    Action("last", "G", "", "", "Move", "table", "Bottom", show=False, readme=False),
    Action("page", "", "PgUp / PgDn", "page up / down", "Move"),
    # -- Find --------------------------------------------------------------------------------
    Action("filter", "slash", "/", "filter the focused list (DAGs: id or tag)", "Find", "main",
           "Filter"),
    Action("palette", "", "Ctrl+P", "command palette: jump to a DAG by fuzzy name", "Find"),
    # -- Data --------------------------------------------------------------------------------
    Action("refresh", "r", "r", "refresh now", "Data", "main", "Refresh",
           action="app.refresh_data"),
    Action("copy_link", "y", "y", "copy the Airflow UI URL of the selected DAG, run, task or "
           "log to your clipboard (OSC 52, works over SSH)", "Data", "main", "Copy URL",
           show=False),
    Action("watch", "a", "a", "alert me when the selected task or run ends, or the DAG's next "
           "run (again: stop); watched rows are marked ◉", "Data", "main", "Alert me",
           show=False),
    Action("next_deployment", "d", "d / D", "several deployments (--all-profiles): the next / "
           "previous one, live (or Enter on its row of the overview's strip)", "Move", "app",
           "Deployment", action="switch_deployment(1)"),
    Action("prev_deployment", "D", "", "", "Move", "app", "Prev deployment",
           action="switch_deployment(-1)", show=False, readme=False),
    Action("zoom", "Z", "Z", "zoom: the focused pane alone, full screen, and back", "Move",
           "main", "Zoom", show=False),
    Action("import_errors", "i", "i", "on the overview: health details and import errors",
           "Data", "overview", "Health"),
    # -- Log pane ----------------------------------------------------------------------------
    Action("log_down", "j,down", "", "", "Log pane", "log", "Down", action="cursor_down",
           show=False, readme=False),
    Action("log_up", "k,up", "", "", "Log pane", "log", "Up", action="cursor_up", show=False,
           readme=False),
    Action("log_page_down", "pagedown", "", "", "Log pane", "log", "Page down",
           action="page(1)", show=False, readme=False),
    Action("log_page_up", "pageup", "", "", "Log pane", "log", "Page up", action="page(-1)",
           show=False, readme=False),
    Action("log_top", "g,home", "", "", "Log pane", "log", "Top", action="top", show=False,
           readme=False),
    Action("log_bottom", "G,end", "", "", "Log pane", "log", "Bottom", action="bottom",
           show=False, readme=False),
    Action("search", "slash", "", "", "Log pane", "log", "Search", readme=False),
    Action("next_match", "n", "", "", "Log pane", "log", "Next match", show=False,
           readme=False),
    Action("prev_match", "N", "", "", "Log pane", "log", "Previous match", show=False,
           readme=False),
    Action("clear_search", "escape", "", "", "Log pane", "log", "Clear search", show=False,
           readme=False),
    Action("toggle_follow", "f", "f", "follow on / off (G resumes tailing)", "Log pane", "log",
           "Follow"),
    Action("prev_try", "left_square_bracket", "[ / ]", "previous / next try", "Log pane", "log",
           "Previous try", action="try(-1)", show=False),
    Action("next_try", "right_square_bracket", "", "", "Log pane", "log", "Next try",
           action="try(1)", show=False, readme=False),
    Action("search_help", "", "/ then n / N", "search, next / previous match", "Log pane"),
    Action("cycle_level", "l", "l", "level filter: all, warning+, error+", "Log pane", "log",
           "Level"),
    Action("toggle_wrap", "w", "w", "wrap long lines", "Log pane", "log", "Wrap"),
    Action("toggle_group", "enter,space", "Enter / Space, z",
           "fold or unfold a group, all groups", "Log pane", "log", "Fold", show=False),
    Action("toggle_all_groups", "z", "", "", "Log pane", "log", "Fold all", show=False,
           readme=False),
    Action("save", "s", "s", "save the whole try to a file", "Log pane", "log", "Save"),
    Action("copy_url", "y", "", "", "Log pane", "log", "Copy URL", show=False, readme=False),
    # -- Change (hidden in read-only mode) ---------------------------------------------------
    Action("trigger", "t", "t", "trigger the DAG; on a run: re-run its conf", "Change", "main",
           "Trigger", writes=True, palette="Trigger the selected DAG"),
    Action("submit", "ctrl+s", "Ctrl+S", "in the conf editor: send the trigger", "Change",
           "trigger", "Trigger", priority=True),
    Action("select_all", "ctrl+a", "Ctrl+A", "in the conf editor: select all (then type or "
           "paste to replace it)", "Change", "trigger", "Select all", priority=True, show=False),
    Action("reset_conf", "ctrl+r", "Ctrl+R", "in the conf editor: reset to the params' defaults "
           "(Ctrl+Z brings your text back)", "Change", "trigger", "Defaults", priority=True),
    Action("pause", "p", "p", "pause / unpause the DAG", "Change", "main", "Pause",
           writes=True, palette="Pause or unpause the selected DAG"),
    Action("clear", "c", "c", "clear the task or run, after a dry run", "Change", "main",
           "Clear", writes=True, palette="Clear the selected task or run"),
    Action("mark", "m", "m", "mark the task or run success / failed", "Change", "main", "Mark",
           writes=True, palette="Mark the selected task or run"),
    # -- App ---------------------------------------------------------------------------------
    Action("help", "question_mark", "?", "this help", "App", "app", "Help"),
    Action("quit", "q", "q", "quit", "App", "app", "Quit"),
)

BY_ID: dict[str, Action] = {a.id: a for a in ACTIONS}

#: palette help of the write actions (what happens after the key)
WRITE_DETAILS: dict[str, str] = {
    "trigger": "open the conf editor (on a run: its conf)",
    "pause": "asks first",
    "clear": "dry-run list first, then clear",
    "mark": "as success or failed",
}

#: the help screen's groups, in order; a note ends a group
GROUP_NOTES: dict[str, str] = {"Change": "(all hidden in read-only mode)"}
GROUP_ORDER = ("Move", "Find", "Data", "Log pane", "Change", "App")

#: order of the main screen's footer: the write actions first, then moving and finding
_MAIN_ORDER = ("trigger", "pause", "clear", "mark", "next_pane", "prev_pane", "back", "filter",
               "refresh", "overview", "watch", "copy_link", "zoom")
_APP_ORDER = ("quit", "help", "next_deployment", "prev_deployment")
#: the overview's keys: the same moves as the main screen's, and its own
_OVERVIEW_ORDER = ("next_pane", "prev_pane", "back", "filter", "refresh", "import_errors",
                   "watch", "copy_link")


def _ordered(ids: tuple[str, ...]) -> list[BindingType]:
    return [BY_ID[i].binding() for i in ids]


def bindings(scope: str) -> list[BindingType]:
    """The bindings of one scope, in footer order."""
    if scope == "main":
        return _ordered(_MAIN_ORDER)
    if scope == "app":
        return _ordered(_APP_ORDER)
    if scope == "overview":
        return _ordered(_OVERVIEW_ORDER)
    return [a.binding() for a in ACTIONS if a.scope == scope]


def write_actions() -> list[Action]:
    """The actions that change Airflow (hidden in read-only mode)."""
    return [a for a in ACTIONS if a.writes]


def is_write(action: str) -> bool:
    found = BY_ID.get(action)
    return found is not None and found.writes


def help_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """(group, [(keys, what)]) for the help screen and the README."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for name in GROUP_ORDER:
        rows = [(a.label, a.help) for a in ACTIONS if a.group == name and a.label]
        if name in GROUP_NOTES:
            rows.append(("", GROUP_NOTES[name]))
        groups.append((name, rows))
    return groups


def readme_table() -> list[str]:
    """The README's key table (markdown lines), made from the actions."""
    lines = ["| key | what it does |", "|---|---|"]
    for _name, rows in help_groups():
        for label, what in rows:
            if label:
                lines.append(f"| `{label}` | {what} |")
    return lines


if __name__ == "__main__":  # print the README's key table
    print("\n".join(readme_table()))
