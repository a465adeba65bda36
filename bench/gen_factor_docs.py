"""Print the "Preset values" tables of docs/emission-factors.md from the factor TOML files.

Run ``PYTHONPATH=. python bench/gen_factor_docs.py`` and paste the output over the section;
``tests/test_graphs_factors.py`` checks that the page and the tables agree.
"""
from __future__ import annotations

from graphs.factors import (
    PRESET_ALIASES,
    PRESETS,
    grid_names,
    load_factor_table,
    load_grid,
)


def _row(factor) -> str:
    mark = " **(UNVERIFIED input)**" if "UNVERIFIED" in factor.notes else ""
    derivation = ""
    if factor.derivation:
        parts = [f"{i.name} = " + (f"factors.{i.factor}" if i.factor else
                                   f"grid ({i.value:g})" if i.grid else f"{i.value:g}")
                 for i in factor.inputs]
        derivation = f"`{factor.derivation}`; " + "; ".join(parts)
    return (f"| {factor.key} | {factor.g_per_pkm:g}{mark} | {factor.source} | {factor.year} | "
            f"{factor.scope} | {derivation} |")


def main() -> None:
    for name in PRESETS:
        if name in PRESET_ALIASES:
            continue
        table = load_factor_table(name)
        grid = f"; grid {table.grid.label}" if table.grid else ""
        print(f"### `{name}`: {table.title}{grid} ({table.label})\n")
        print("| key | g CO2e/pkm | source | year | scope | derivation |")
        print("|---|---:|---|---|---|---|")
        for factor in table.entries.values():
            print(_row(factor))
        print()
    print("### Grids of `cn` (`tanlu build --grid NAME`)\n")
    print("| grid | 区域 | g CO2/kWh | year | verified | car_bev g/pkm | ebike g/pkm | clause |")
    print("|---|---|---:|---|---|---:|---:|---|")
    for name in grid_names():
        grid = load_grid(name)
        table = load_factor_table("cn", grid=name)
        print(f"| `{name}` | {grid.name_zh} | {grid.g_per_kwh:g} | {grid.year} | "
              f"{'yes' if grid.verified else 'no'} | {table.g_per_pkm('car_bev'):g} | "
              f"{table.g_per_pkm('ebike'):g} | {grid.clause} |")


if __name__ == "__main__":
    main()
