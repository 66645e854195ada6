"""An attacker of small-cell suppression, written independently of `coordinator.metrics`.

It is told every published value, how each withheld one is shown (`<11`: 1 to 10; `*`: withheld
to protect another, so 11 or more since every count from 1 to 10 is `<11`; plain null: any count),
and every relation the definitions imply (a total is the sum of its cells, the same cell shown in
two answers, a rate times its denominator is its numerator). It then decides, for each withheld
cell, whether a single value is compatible with all of it: by an exact search over integers
(bounds propagation, then branching), not by subtraction alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CAP = 10_000  # the attacker's bound on any count (far above every test registry)


@dataclass
class Attacker:
    parent: dict[str, str] = field(default_factory=dict)
    low: dict[str, int] = field(default_factory=dict)
    high: dict[str, int] = field(default_factory=dict)
    sums: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    ratios: list[tuple[str, str, float]] = field(default_factory=list)  # (num, den, rate)
    withheld: set[str] = field(default_factory=set)

    # -- what the attacker is told ------------------------------------------------------------

    def _root(self, name: str) -> str:
        self.parent.setdefault(name, name)
        while self.parent[name] != name:
            self.parent[name] = self.parent[self.parent[name]]
            name = self.parent[name]
        return name

    def _bound(self, name: str, low: int, high: int) -> None:
        root = self._root(name)
        self.low[root] = max(self.low.get(root, 0), low)
        self.high[root] = min(self.high.get(root, CAP), high)

    def published(self, name: str, value: int) -> None:
        self._bound(name, value, value)

    def hidden(self, name: str, mark: str | None) -> None:
        self.withheld.add(name)
        low, high = {"<11": (1, 10), "*": (11, CAP)}.get(mark or "", (0, CAP))
        self._bound(name, low, high)

    def same(self, a: str, b: str) -> None:
        root_a, root_b = self._root(a), self._root(b)
        if root_a == root_b:
            return
        low = max(self.low.pop(root_a, 0), self.low.get(root_b, 0))
        high = min(self.high.pop(root_a, CAP), self.high.get(root_b, CAP))
        self.parent[root_a] = root_b
        self.low[root_b], self.high[root_b] = low, high

    def total(self, total: str, parts: list[str]) -> None:
        self._root(total)
        for part in parts:
            self._root(part)
        self.sums.append((total, tuple(parts)))

    def rate(self, numerator: str, denominator: str, value: float) -> None:
        self.ratios.append((numerator, denominator, value))

    # -- the search ---------------------------------------------------------------------------

    def _problem(self):
        names = {self._root(n) for n in self.parent}
        sums = [(self._root(t), tuple(self._root(p) for p in parts)) for t, parts in self.sums]
        ratios = [(self._root(n), self._root(d), r) for n, d, r in self.ratios]
        domains = {n: (self.low.get(n, 0), self.high.get(n, CAP)) for n in names}
        return domains, sums, ratios

    @staticmethod
    def _propagate(domains, sums, ratios):
        domains = dict(domains)
        for _ in range(200):
            changed = False
            for total, parts in sums:
                lo_t, hi_t = domains[total]
                lo_p = sum(domains[p][0] for p in parts)
                hi_p = sum(domains[p][1] for p in parts)
                new = (max(lo_t, lo_p), min(hi_t, hi_p))
                if new != domains[total]:
                    domains[total], changed = new, True
                lo_t, hi_t = domains[total]
                for part in parts:
                    others_lo = lo_p - domains[part][0]
                    others_hi = hi_p - domains[part][1]
                    new = (max(domains[part][0], lo_t - others_hi),
                           min(domains[part][1], hi_t - others_lo))
                    if new != domains[part]:
                        domains[part], changed = new, True
                        lo_p = sum(domains[p][0] for p in parts)
                        hi_p = sum(domains[p][1] for p in parts)
            for numerator, denominator, rate in ratios:
                (lo_n, hi_n), (lo_d, hi_d) = domains[numerator], domains[denominator]
                if lo_d == hi_d:
                    value = round(rate * lo_d)
                    new = (max(lo_n, value), min(hi_n, value))
                    if new != domains[numerator]:
                        domains[numerator], changed = new, True
                elif lo_n == hi_n and rate > 0:
                    value = round(lo_n / rate)
                    new = (max(lo_d, value), min(hi_d, value))
                    if new != domains[denominator]:
                        domains[denominator], changed = new, True
            if any(lo > hi for lo, hi in domains.values()):
                return None
            if not changed:
                return domains
        return domains

    def _search(self, domains, sums, ratios):
        domains = self._propagate(domains, sums, ratios)
        if domains is None:
            return None
        open_names = [n for n, (lo, hi) in domains.items() if lo < hi]
        if not open_names:
            exact = {n: lo for n, (lo, _) in domains.items()}
            if all(exact[t] == sum(exact[p] for p in parts) for t, parts in sums) and all(
                    abs(exact[n] - r * exact[d]) < 0.5 for n, d, r in ratios):
                return exact
            return None
        name = min(open_names, key=lambda n: (domains[n][1] - domains[n][0], n))
        lo, hi = domains[name]
        middle = (lo + hi) // 2  # halves: an infeasible wide domain is refuted in log steps
        for half in ((lo, middle), (middle + 1, hi)):
            found = self._search({**domains, name: half}, sums, ratios)
            if found is not None:
                return found
        return None

    def _components(self, domains, sums, ratios):
        """The cells tied together by sums and rates, each group with its constraints."""
        group = {name: name for name in domains}

        def find(name):
            while group[name] != name:
                group[name] = group[group[name]]
                name = group[name]
            return name

        for names in [(t, *parts) for t, parts in sums] + [(n, d) for n, d, _ in ratios]:
            for other in names[1:]:
                group[find(other)] = find(names[0])
        members: dict[str, list[str]] = {}
        for name in domains:
            members.setdefault(find(name), []).append(name)
        return {name: find(name) for name in domains}, members

    def recovered(self) -> dict[str, int]:
        """The withheld cells whose value is the only one compatible with what was published
        (name → value). Each group of related cells is searched on its own."""
        domains, sums, ratios = self._problem()
        of, members = self._components(domains, sums, ratios)
        solutions: dict[str, dict] = {}

        def problem(root):
            names = set(members[of[root]])
            return ({n: domains[n] for n in names},
                    [(t, parts) for t, parts in sums if t in names],
                    [(n, d, r) for n, d, r in ratios if n in names])

        found = {}
        for name in sorted(self.withheld):
            root = self._root(name)
            local, local_sums, local_ratios = problem(root)
            key = of[root]
            if key not in solutions:
                solution = self._search(local, local_sums, local_ratios)
                assert solution is not None, "what was published is inconsistent"
                solutions[key] = solution
            value = solutions[key][root]
            lo, hi = local[root]
            other = None
            if value > lo:
                other = self._search({**local, root: (lo, value - 1)}, local_sums,
                                     local_ratios)
            if other is None and value < hi:
                other = self._search({**local, root: (value + 1, hi)}, local_sums,
                                     local_ratios)
            if other is None:
                found[name] = value
        return found
