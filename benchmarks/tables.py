"""The benchmark's tables: the peers, a row's cells and Markdown (``bench_vae.py`` and
``matrix.py`` both print them)."""

__all__ = ["PEERS", "ROW_HEADER", "markdown", "row_cells"]

#: The peers ``bench_vae.py`` can time beside ours, in the tables' order.
PEERS = ("eager", "compile", "jax")


def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


ROW_HEADER = [
    "what",
    "ours (ms)",
    "eager (ms)",
    *(f"{n} (ms) (ours/{n})" for n in PEERS if n != "eager"),
    "ours/eager",
    "ours/fastest",
    "of matmul limit",
    "target(s)",
    "met?",
]


def row_cells(row):
    """The cells of :data:`ROW_HEADER` for a row of :func:`make_row` (or its JSON)."""

    def number(value, digits=2):
        return "—" if value is None else f"{value:.{digits}f}"

    ratios = row["ratios"]
    peers = [number(row["others"].get(n)) for n in PEERS]
    for i, name in enumerate(PEERS):  # eager's ratio has its own column
        if name != "eager" and name in ratios:
            peers[i] += f" ({number(ratios[name])})"
    fastest = number(ratios.get("fastest"))
    if ratios.get("fastest") is not None and row["fastest_of"] != list(PEERS):
        fastest += f" (of {', '.join(row['fastest_of'])})"
    fraction = row["matmul_fraction"]
    targets, met = [], []
    for name, bound in row["targets"].items():
        shown = "" if name in ("eager", "fastest") else f" ({number(ratios.get(name))})"
        targets.append(f"ours/{name} ≤ {bound}{shown}")
        met.append({True: "yes", False: "no"}.get(row["met"].get(name), "—"))
    return [
        row["what"],
        number(row["ours"]),
        *peers,
        number(ratios.get("eager")),
        fastest,
        "—" if fraction is None else f"{fraction:.0%}",
        "; ".join(targets) or "—",
        " / ".join(met) or "—",
    ]
