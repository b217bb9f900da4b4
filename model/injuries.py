"""Work injuries in workshops: who is hurt, who pays, and what an injured worker loses.

Each month every worker of a workshop outside the home (outwork is done at home and is
not insured) is hurt with probability `workshops.injury_rate_per_worker_month` (a keyed
draw per person and month). The injured worker keeps the job (the employment continues
through the leave, 工伤保险条例 art. 33) but cannot work for
`workshops.injury_recovery_months` months. Who bears the cost depends on whether the
county's injury insurance covered the worker that month (`InjuryInsurance` marks the
workshops whose premiums it paid, for their registered-poor workers only where the
county insures only those):

- insured: the insurance fund pays the treatment and replaces the lost pay, so the
  household keeps the worker's earnings and the workshop bears nothing (in law the
  employer continues the wage during the leave and the fund pays treatment and
  allowances; the model books both to the fund);
- uninsured: the workshop pays the treatment (`workshops.injury_cost_yuan`, once, in
  its profit) and the worker earns nothing from the job while recovering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model.households import People
from model.keyed import KeyedDraws, Purpose
from model.scenario import Workshops
from model.workshops import Form, WorkshopTable


@dataclass
class Injuries:
    """Workers recovering from a work injury (one entry each, few at any time).

    Attributes:
        person: the injured workers (int64).
        slot: the workshop where each was hurt (int64).
        months_left: months of leave still to come, this one included (int32).
        insured: whether the county's insurance covered the worker when hurt (bool).
    """

    person: np.ndarray
    slot: np.ndarray
    months_left: np.ndarray
    insured: np.ndarray

    @classmethod
    def none(cls) -> Injuries:
        """No one injured."""
        empty = np.empty(0, dtype=np.int64)
        return cls(empty, empty, np.empty(0, dtype=np.int32), np.empty(0, dtype=bool))

    def month(
        self,
        people: People,
        employed: np.ndarray,
        table: WorkshopTable,
        covers: Callable[[np.ndarray], np.ndarray],
        rules: Workshops,
        draws: tuple[KeyedDraws, int],
    ) -> np.ndarray:
        """Advance one month: leaves run down, new injuries strike; returns who loses pay.

        Args:
            people: the people.
            employed: people with a workshop job now (ascending).
            table: the workshops; uninsured injuries add to `accident_cost`.
            covers: whether the county's insurance covers each of the given workers this
                month (`InjuryInsurance.covers`).
            rules: the scenario's workshop rules (injury rate, leave, cost).
            draws: the run's keyed draws and the model month.

        Returns:
            The uninsured injured workers on leave this month who are still employed
            where they were hurt: they earn nothing from the job this month.
        """
        keyed, month = draws
        self._run_down()
        at_work = employed[table.form[people.employer[employed]] != Form.OUTWORK]
        u = keyed.uniforms(Purpose.INJURY, at_work, month)
        hurt = at_work[u < rules.injury_rate_per_worker_month]
        hurt = hurt[~np.isin(hurt, self.person)]
        slot = people.employer[hurt].astype(np.int64)
        insured = covers(hurt)
        np.add.at(table.accident_cost, slot[~insured], rules.injury_cost_yuan)
        self.person = np.concatenate([self.person, hurt])
        self.slot = np.concatenate([self.slot, slot])
        self.months_left = np.concatenate(
            [self.months_left, np.full(len(hurt), rules.injury_recovery_months, np.int32)]
        )
        self.insured = np.concatenate([self.insured, insured])
        on_leave = ~self.insured & (people.employer[self.person] == self.slot)
        return self.person[on_leave]

    def _run_down(self) -> None:
        """One month of leave less; those whose leave is over are well again."""
        self.months_left = self.months_left - 1
        still = self.months_left > 0
        self.person, self.slot = self.person[still], self.slot[still]
        self.months_left, self.insured = self.months_left[still], self.insured[still]
