"""Workshop and migrant earnings booked to people and households, compiled with numba.

The array version is `model.pay`: each worker's earnings, then `np.bincount` of them by
household. Here one pass over the workers computes each one's earnings with the same
floating-point operations and adds them to the household's income in the same order
(ascending person index), so both give identical numbers without the array version's
temporaries. Used when compiled loops are enabled (`model.jit`).
"""

from __future__ import annotations

import numpy as np

from model.households import People
from model.jit import jit


def credit_migrants(people: People, migrants: np.ndarray, net_wage: float,
                    course_gains: np.ndarray, household_income: np.ndarray) -> None:
    """Migrants earn the net wage x productivity x capacity (yuan this month).

    Args:
        people: the people (their `earnings` are written).
        migrants: the migrants, ascending.
        net_wage: migrant wage net of living costs, skill 1 (yuan/month).
        course_gains: productivity multiplier by courses completed.
        household_income: migrant income per household, overwritten (yuan).
    """
    _credit_migrants(migrants, people.skill, people.courses, people.capacity, people.household,
                     course_gains, net_wage, people.earnings, household_income)


def credit_workshop_workers(people: People, employed: np.ndarray, pay: np.ndarray,
                            utilisation: np.ndarray, piece_rate: np.ndarray,
                            course_gains: np.ndarray, wages: np.ndarray,
                            piece_work: np.ndarray) -> None:
    """Workers earn pay x utilisation x capacity, piece workers also x productivity.

    Args:
        people: the people (their `earnings` are written).
        employed: the people with a workshop job, ascending.
        pay: per workshop slot, yuan/month at full orders.
        utilisation: per workshop slot, share of the month each worker is busy.
        piece_rate: per workshop slot, whether it pays by piece.
        course_gains: productivity multiplier by courses completed.
        wages: wage income per household, overwritten (yuan).
        piece_work: piece-work income per household, overwritten (yuan).
    """
    _credit_workshop_workers(employed, people.employer, people.skill, people.courses,
                             people.capacity, people.household, pay, utilisation, piece_rate,
                             course_gains, people.earnings, wages, piece_work)


@jit
def _credit_migrants(migrants, skill, courses, capacity, household, course_gains, net_wage,
                     earnings, household_income):
    household_income[:] = 0.0
    for k in range(migrants.shape[0]):
        i = migrants[k]
        amount = net_wage * (np.float64(skill[i]) * course_gains[courses[i]]) * capacity[i]
        earnings[i] = amount
        household_income[household[i]] += amount


@jit
def _credit_workshop_workers(employed, employer, skill, courses, capacity, household, pay,
                             utilisation, piece_rate, course_gains, earnings, wages,
                             piece_work):
    wages[:] = 0.0
    piece_work[:] = 0.0
    for k in range(employed.shape[0]):
        i = employed[k]
        slot = employer[i]
        amount = pay[slot] * utilisation[slot] * capacity[i]
        if piece_rate[slot]:
            amount = amount * (np.float64(skill[i]) * course_gains[courses[i]])
            piece_work[household[i]] += amount
        else:
            wages[household[i]] += amount
        earnings[i] = amount
