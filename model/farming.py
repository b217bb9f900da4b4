"""Household farms: land shared among the household's farmers, farm income, rent on idle land.

A farmer works the household's land shared among its farmers, up to a maximum, and earns
net farm income in proportion to their labour capacity; land nobody farms is rented out.
A household's farm income changes only when its farmers change (or, once a year, their
capacity), so `Farms` keeps it per household and recomputes it for the households whose
members started or stopped farming since it was last brought up to date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.compiled import pay as compiled_pay
from model.compiled import twin
from model.households import Households, People, members
from model.scenario import Activity, Scenario
from model.workshops import MONTHS_PER_YEAR


def mu_per_farmer(land_mu: np.ndarray, n_farmers: np.ndarray, params: Scenario) -> np.ndarray:
    """Land one farmer works: household land shared among its farmers, up to a maximum (mu)."""
    return np.minimum(land_mu / np.maximum(n_farmers, 1), params.incomes.mu_per_farmer_max)


def farm_yuan(mu: np.ndarray, capacity: np.ndarray, params: Scenario) -> np.ndarray:
    """Monthly net farm income of farming `mu` at a labour capacity (yuan)."""
    return mu * params.incomes.farm_net_yuan_per_mu_year / MONTHS_PER_YEAR * capacity


@dataclass
class FarmUpdate:
    """What bringing the farms up to date changed.

    Attributes:
        changed: people whose activity changed since the previous update (everyone
            after `Farms.invalidate`).
        farmers: the farmers of the households recomputed.
        earnings: their farm earnings this month (yuan), one per entry of `farmers`.
    """

    changed: np.ndarray
    farmers: np.ndarray
    earnings: np.ndarray


class Farms:
    """Each household's farmers and farm income, brought up to date by `update`."""

    def __init__(self, people: People, households: Households, params: Scenario) -> None:
        self.params = params
        self.seen = people.activity.copy()  # activities at the last update
        n = len(households)
        self.farmers = np.zeros(n, dtype=np.int64)  # members farming at the last update
        self.income = np.zeros(n)  # farm income plus rent on idle land, yuan/month
        self._recompute(people, households)
        self.valid = False  # the first update, and any after capacities change, recompute all

    def invalidate(self) -> None:
        """Labour capacities changed: the next update recomputes every household."""
        self.valid = False

    def current_farmers(self, people: People) -> np.ndarray:
        """Members of each household farming now (the last update's counts, plus changes)."""
        changed = np.flatnonzero(people.activity != self.seen)
        home = people.household[changed]
        started = people.activity[changed] == Activity.FARMING
        stopped = self.seen[changed] == Activity.FARMING
        n = len(self.farmers)
        return (
            self.farmers
            + np.bincount(home[started], minlength=n)
            - np.bincount(home[stopped], minlength=n)
        )

    def update(self, people: People, households: Households) -> FarmUpdate:
        """Recompute the farms of households whose farmers changed (all when invalid)."""
        if not self.valid:
            self.seen[:] = people.activity
            self.valid = True
            return FarmUpdate(np.arange(len(people)), *self._recompute(people, households))
        changed = np.flatnonzero(people.activity != self.seen)
        farming_changed = (people.activity[changed] == Activity.FARMING) != (
            self.seen[changed] == Activity.FARMING
        )
        self.seen[changed] = people.activity[changed]
        dirty = np.zeros(len(households), dtype=bool)
        dirty[people.household[changed[farming_changed]]] = True
        return FarmUpdate(changed, *self._recompute(people, households, np.flatnonzero(dirty)))

    def _recompute(
        self, people: People, households: Households, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Farmers, farm income and rent of households `rows` (all if None).

        Returns the farmers of those households and their farm earnings (yuan).
        """
        return recompute_farms(people, households, rows, self.params, self.farmers, self.income)


def _recompute_farms(
    people: People,
    households: Households,
    rows: np.ndarray | None,
    params: Scenario,
    farmers: np.ndarray,
    income: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Farmers and farm income (farming plus rent on idle land) of households `rows`.

    The twin of `model.compiled.pay.recompute_farms` (same arguments and results): rows
    `rows` (all if None) of `farmers` and `income` are overwritten, and the farmers of
    those households (ascending) are returned with their farm earnings (yuan).
    """
    if rows is None:
        persons = np.flatnonzero(people.activity == Activity.FARMING)
        home, n_rows, land = people.household[persons], len(households), households.land_mu
    else:
        their_members = members(households, rows)
        farming = people.activity[their_members] == Activity.FARMING
        persons = their_members[farming]
        home = np.repeat(np.arange(len(rows)), households.size[rows])[farming]
        n_rows, land = len(rows), households.land_mu[rows]
    n_farmers = np.bincount(home, minlength=n_rows)
    mu = mu_per_farmer(land[home], n_farmers[home], params)
    earnings = farm_yuan(mu, people.capacity[persons], params)
    idle_mu = np.maximum(land - np.bincount(home, mu, n_rows), 0.0)
    rent = idle_mu * params.incomes.land_rent_yuan_per_mu_year / MONTHS_PER_YEAR
    target = slice(None) if rows is None else rows
    farmers[target], income[target] = n_farmers, np.bincount(home, earnings, n_rows) + rent
    return persons, earnings


recompute_farms = twin(
    compiled_pay.recompute_farms,
    _recompute_farms,
    test="tests/model/test_compiled_pay.py::test_recompute_farms_twins_are_identical",
)
