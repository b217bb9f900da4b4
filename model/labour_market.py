"""Matching applicants to workshop places by expected productivity under the poor-worker quota.

Each applicant applies to one workshop of the kind chosen (in the own village for village
workshops; at the own resettlement site for community factories where it has one with a
vacancy, county-wide otherwise; county-wide for the rest), drawn with probability
proportional to its vacancies. Each workshop then ranks its applicants: first those its
form hires first (registered-poor households at cooperatives, the factory's own site at
community factories), then by the productivity the firm expects of them (skill as the
firm judges it, courses, capacity, and for park workshops the distance), and hires the
best-ranked, never past capacity. Where certification is in force the quota is a
constraint: non-poor applicants are hired only as far as the poor share stays at the
quota, the next poor applicants taking the places of those dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.compiled import matching as compiled_matching
from model.compiled import twin
from model.households import NO_EMPLOYER, People
from model.keyed import KeyedDraws, Purpose, keyed_pair_uniforms
from model.scenario import Activity, WageSubsidy
from model.workshops import HiringPriority, WorkshopTable

PICK_GROUPS = 8  # groups of a pool's workshops in the first stage of an applicant's pick
# (applicant, candidate) pairs raced at once: bounds the race's arrays (8 to 40 bytes a pair)
# when many apply at once, as at the policy's start; each applicant's race is its own.
RACE_PAIRS = 1 << 20
# Applicants judged and hired at once, in parts of whole workshops' applicants: each
# workshop ranks only its own applicants, so parts bound the memory, not the hires.
HIRE_PART = 1 << 18

# Tolerance when comparing a poor share with the quota (shares are ratios of head counts).
QUOTA_TOLERANCE = 1e-9


@dataclass
class Staff:
    """Head counts per workshop slot."""

    workers: np.ndarray  # int64
    poor_workers: np.ndarray  # int64

    @classmethod
    def count(
        cls,
        people: People,
        poor_person: np.ndarray,
        n_slots: int,
        employed: np.ndarray | None = None,
    ) -> Staff:
        """Count each workshop's workers and registered-poor workers.

        Args:
            people: the people.
            poor_person: whether each person is registered poor.
            n_slots: workshop slots.
            employed: the people with a workshop job, if already known.
        """
        if employed is None:
            employed = np.flatnonzero(people.employer >= 0)
        slots = people.employer[employed]
        return cls(
            np.bincount(slots, minlength=n_slots),
            np.bincount(slots[poor_person[employed]], minlength=n_slots),
        )

    def without(self, slots: np.ndarray, poor: np.ndarray) -> Staff:
        """Head counts after people left the jobs `slots` (NO_EMPLOYER: they had none).

        Args:
            slots: the leavers' workshop slots.
            poor: whether each leaver is registered poor.
        """
        had_job = slots >= 0
        n = len(self.workers)
        return Staff(
            self.workers - np.bincount(slots[had_job], minlength=n),
            self.poor_workers - np.bincount(slots[had_job & poor], minlength=n),
        )


def market_key(
    activity: np.ndarray, village: np.ndarray, site: np.ndarray, n_villages: int
) -> np.ndarray:
    """Pool of places an activity draws on (see `model.offers.Pools`).

    One pool per village for village workshops, one per resettlement site for community
    factories (where `site` is one: a factory's site, an applicant's home site), one
    county-wide pool per other kind (and for community factories without a site).
    """
    county = county_key(activity, village, n_villages)
    by_site = n_villages + len(Activity) + site.astype(np.int64)
    return np.where((activity == Activity.COMMUNITY_FACTORY) & (site >= 0), by_site, county)


def county_key(activity: np.ndarray, village: np.ndarray, n_villages: int) -> np.ndarray:
    """Pool of places an activity draws on, counting every community factory county-wide."""
    return np.where(
        activity == Activity.VILLAGE_WORKSHOP, village, n_villages + activity.astype(np.int64)
    )


def nonpoor_room(staff: Staff, quota_share: float) -> np.ndarray:
    """Non-poor workers each workshop may add without its poor share falling below quota."""
    unlimited = np.iinfo(np.int64).max // 4
    if quota_share <= 0:
        return np.full(len(staff.workers), unlimited)
    allowed = np.floor(staff.poor_workers * (1 - quota_share) / quota_share + QUOTA_TOLERANCE)
    allowed = np.minimum(allowed, unlimited).astype(np.int64)
    return np.maximum(allowed - (staff.workers - staff.poor_workers), 0)


# Subtracted from the ranking score of applicants a workshop hires first: more than any
# expected productivity, so they all come before the others.
FIRST_IN_LINE = 1.0e6


@dataclass
class Applications:
    """Who applies for what this month (one entry per applicant)."""

    person: np.ndarray  # int64, person index
    key: np.ndarray  # int64, market_key of the wanted activity
    poor: np.ndarray  # bool, registered poor
    trained: np.ndarray  # bool, has completed a course
    merit: np.ndarray | None = None  # float64, productivity a firm expects (higher first)
    site: np.ndarray | None = None  # int32, home resettlement site (NO_SITE if none)

    def part(self, index: np.ndarray) -> Applications:
        """The applications `index` (ascending positions)."""
        return Applications(
            self.person[index],
            self.key[index],
            self.poor[index],
            self.trained[index],
            None if self.merit is None else self.merit[index],
            None if self.site is None else self.site[index],
        )


def workshop_parts(target: np.ndarray, n_slots: int, size: int | None = None) -> list[np.ndarray]:
    """The applicants with a workshop (`target` >= 0), in parts of about `size` or fewer.

    Each part holds every applicant of its workshops (a workshop with more than `size`
    applicants is a part of its own); positions ascend within a part. `size` defaults to
    `HIRE_PART`.
    """
    size = size or HIRE_PART
    applying = np.flatnonzero(target >= 0)
    if len(applying) <= size:
        return [applying]
    per_slot = np.bincount(target[applying], minlength=n_slots)
    bounds, filled = [0], 0
    for slot in np.flatnonzero(per_slot).tolist():  # a part ends before a workshop that
        if filled and filled + per_slot[slot] > size:  # would take it past `size`
            bounds.append(slot)
            filled = 0
        filled += per_slot[slot]
    block = np.searchsorted(np.array(bounds), target[applying], side="right") - 1
    order = np.argsort(block, kind="stable")
    return np.split(applying[order], np.cumsum(np.bincount(block))[:-1])


@dataclass(frozen=True)
class Screening:
    """How a firm judges an applicant's productivity (`Applications.merit`).

    Attributes:
        gain_per_course: productivity gain per completed course (courses are certified).
        noise_sd: sd of the firm's error in judging skill (log points).
        park_distance_scale_km: a park firm discounts an applicant living d km away
            by exp(-d / this).
    """

    gain_per_course: float
    noise_sd: float
    park_distance_scale_km: float

    def merit(
        self, people: People, persons: np.ndarray, error: np.ndarray, park_km: np.ndarray
    ) -> np.ndarray:
        """Productivity a firm expects of each applicant: capacity x judged productivity.

        capacity x skill x exp(noise_sd x error) x (1 + gain)^courses x exp(-park_km / scale).

        Args:
            people: the people.
            persons: the applicants.
            error: a standard normal per applicant (the firm's error).
            park_km: distance to the park of applicants to a park workshop, 0 for others.
        """
        gains = (1.0 + self.gain_per_course) ** people.courses[persons].astype(np.float64)
        judged = people.skill[persons] * np.exp(self.noise_sd * error) * gains
        return people.capacity[persons] * judged * np.exp(-park_km / self.park_distance_scale_km)


def labour_cost_share(
    apps: Applications,
    target: np.ndarray,
    table: WorkshopTable,
    age: np.ndarray,
    subsidy: WageSubsidy,
) -> np.ndarray:
    """Share of each applicant's wage their target workshop would bear (1 without subsidy).

    A certified workshop is refunded `share_of_poor_wage_bill` of the wages of its
    registered-poor workers up to the subsidy's age limit, so such an applicant costs it
    that much less: firms rank applicants by expected productivity per yuan of labour
    cost (`Applications.merit` divided by this share).

    Args:
        apps: the applicants.
        target: each applicant's workshop slot (-1: none).
        table: the workshops.
        age: each applicant's age (years).
        subsidy: the scenario's `policy.wage_subsidy` block.
    """
    if not subsidy.enabled:
        return np.ones(len(target))
    certified = (target >= 0) & table.certified[np.maximum(target, 0)]
    refunded = certified & apps.poor & (age <= subsidy.worker_age_max)
    return np.where(refunded, 1.0 - subsidy.share_of_poor_wage_bill, 1.0)


def first_in_line(apps: Applications, target: np.ndarray, table: WorkshopTable) -> np.ndarray:
    """Applicants their target workshop hires first (by its form's `HiringPriority`)."""
    slot = np.maximum(target, 0)
    priority = np.where(target >= 0, table.priority[slot], HiringPriority.NONE)
    first = (priority == HiringPriority.REGISTERED_POOR) & apps.poor
    if apps.site is not None:
        first |= (priority == HiringPriority.OWN_SITE) & (apps.site == table.site[slot])
    return first


def pick_workshops(
    apps: Applications,
    slot_key: np.ndarray,
    vacancies: np.ndarray,
    serial: np.ndarray,
    keyed: KeyedDraws,
    tick: tuple[int, int],
) -> np.ndarray:
    """For each applicant, a workshop of its pool drawn in proportion to vacancies (-1 if none).

    A race in two stages, each exact, so the pick is proportional to vacancies: first
    among the pool's groups of workshops (a firm's group is its serial modulo
    `PICK_GROUPS`) weighted by their vacancies, then among the chosen group's workshops.
    The applicant's draw for a group or a firm is keyed by the applicant and the group
    or the firm's serial, never by which other firms exist: a workshop opening or
    filling up moves only the applicants it (or its group) wins or loses. Two stages
    keep the work per applicant near `PICK_GROUPS` + (workshops in the pool) /
    `PICK_GROUPS` instead of all of them.

    Args:
        apps: the applicants.
        slot_key: each workshop slot's pool (`market_key`).
        vacancies: each slot's vacancies (places).
        serial: each slot's firm serial.
        keyed: the run's keyed draws.
        tick: the month and the round of matching within it.
    """
    hiring = np.flatnonzero(vacancies > 0)
    group = slot_key[hiring] * PICK_GROUPS + serial[hiring] % PICK_GROUPS
    order = np.argsort(group, kind="stable")
    hiring, group = hiring[order], group[order]
    groups, first = np.unique(group, return_index=True)
    room = np.add.reduceat(vacancies[hiring], first) if len(first) else np.empty(0, np.int64)
    chosen = race_in_parts(
        apps.key,
        groups // PICK_GROUPS,
        room.astype(np.float64),
        groups,
        apps.person,
        keyed.prefix(Purpose.PICK_GROUP, *tick),
    )
    wanted = np.full(len(chosen), -1, dtype=np.int64)
    wanted[chosen >= 0] = groups[chosen[chosen >= 0]]
    picked = race_in_parts(
        wanted,
        group,
        vacancies[hiring].astype(np.float64),
        serial[hiring],
        apps.person,
        keyed.prefix(Purpose.PICK, *tick),
    )
    target = np.full(len(picked), -1, dtype=np.int64)
    target[picked >= 0] = hiring[picked[picked >= 0]]
    return target


def race_in_parts(
    wanted: np.ndarray,
    keys: np.ndarray,
    weights: np.ndarray,
    entities: np.ndarray,
    persons: np.ndarray,
    prefix: np.uint64,
) -> np.ndarray:
    """`race` over consecutive parts of the applicants, each with about `RACE_PAIRS` pairs.

    The winners are those of one race over everyone (each applicant's draws are its own);
    only the memory the race holds at once is bounded. Arguments as `race`.
    """
    pairs = np.searchsorted(keys, wanted, side="right") - np.searchsorted(keys, wanted, "left")
    total = np.cumsum(pairs)
    cuts = np.searchsorted(total, np.arange(RACE_PAIRS, total[-1] if len(total) else 0, RACE_PAIRS))
    bounds = np.unique(np.concatenate(([0], cuts, [len(wanted)])))
    winner = np.empty(len(wanted), dtype=np.int64)
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        part = slice(start, end)
        winner[part] = race(wanted[part], keys, weights, entities, persons[part], prefix)
    return winner


def _race(
    wanted: np.ndarray,
    keys: np.ndarray,
    weights: np.ndarray,
    entities: np.ndarray,
    persons: np.ndarray,
    prefix: np.uint64,
) -> np.ndarray:
    """Each applicant's winner among the candidates whose key it wants (-1: none).

    Candidate c of key `wanted[a]` arrives at -log(u) / weights[c], u the applicant's
    keyed pair uniform for `entities[c]` under `prefix`; the first to arrive wins, with
    probability proportional to its weight (the first listed if tied). The twin of
    `model.compiled.matching.race`.

    Args:
        wanted: the key each applicant enters (-1 or an absent key: none).
        keys: the candidates' keys, ascending.
        weights: the candidates' weights (> 0).
        entities: what each candidate's draw is keyed by (e.g. the firm's serial).
        persons: each applicant's person index.
        prefix: the hashed key of the draws (`model.keyed.KeyedDraws.prefix`).
    """
    start = np.searchsorted(keys, wanted, side="left")
    counts = np.searchsorted(keys, wanted, side="right") - start
    offsets = np.cumsum(counts) - counts
    candidate = np.arange(counts.sum()) - np.repeat(offsets - start, counts)
    applicant = np.repeat(np.arange(len(wanted)), counts)
    u = keyed_pair_uniforms(prefix, persons[applicant], entities[candidate])
    wait = -np.log(u) / weights[candidate]
    winner = np.full(len(wanted), -1, dtype=np.int64)
    entered = np.flatnonzero(counts > 0)
    if len(entered):
        fastest = np.minimum.reduceat(wait, offsets[entered])
        arrived = np.flatnonzero(wait == np.repeat(fastest, counts[entered]))
        first = arrived[np.searchsorted(arrived, offsets[entered])]  # ties: the first
        winner[entered] = candidate[first]
    return winner


race = twin(
    compiled_matching.race,
    _race,
    test="tests/model/test_compiled_matching.py::test_race_twins_are_identical",
)


def hire(
    apps: Applications,
    target: np.ndarray,
    vacancies: np.ndarray,
    staff: Staff,
    quota_share: float,
    needs_training: np.ndarray | None = None,
    first: np.ndarray | None = None,
) -> np.ndarray:
    """Which applicants their target workshop hires (bool per applicant).

    A workshop ranks its applicants by `apps.merit` (highest first; ties by position),
    those flagged in `first` ahead of all others, and takes its best-ranked applicants
    up to its vacancies. Where that would leave its poor share below `quota_share`
    (counting this round's hires), it meets the quota with the fewest changes: the
    lowest-ranked non-poor picks give their places to the best-ranked poor applicants
    not picked (`quota_swaps`), and where too few poor applicants are left, further
    non-poor picks are dropped until the share holds. Workshops flagged in
    `needs_training` consider only applicants who completed a course.

    Args:
        apps: the applicants (merit 0 for all if not given).
        target: each applicant's workshop slot (-1: none).
        vacancies: places each slot fills at most.
        staff: head counts before this round's hires.
        quota_share: least share of registered-poor workers (0: no quota).
        needs_training: per slot, hires only applicants who completed a course.
        first: per applicant, in the group its workshop hires first.
    """
    qualified = target >= 0
    if needs_training is not None:
        qualified &= apps.trained | ~needs_training[np.maximum(target, 0)]
    applying = np.flatnonzero(qualified)
    slot, poor = target[applying], apps.poor[applying]
    merit = np.zeros(len(target)) if apps.merit is None else apps.merit
    score = -merit[applying]
    if first is not None:
        score -= FIRST_IN_LINE * first[applying]
    order = hiring_order(slot, score, len(vacancies))
    slot, poor = slot[order], poor[order]
    start = np.searchsorted(slot, slot, side="left")
    vac = vacancies[slot]
    first_pick = np.arange(len(order)) - start < vac
    n_slots = len(vacancies)
    poor_picked = np.bincount(slot, first_pick & poor, n_slots).astype(np.int64)
    nonpoor_picked = np.bincount(slot, first_pick & ~poor, n_slots).astype(np.int64)
    poor_waiting = np.bincount(slot, ~first_pick & poor, n_slots).astype(np.int64)
    swaps = quota_swaps(staff, poor_picked, nonpoor_picked, poor_waiting, quota_share)
    after = Staff(staff.workers + poor_picked + swaps, staff.poor_workers + poor_picked + swaps)
    keep = np.minimum(nonpoor_picked - swaps, nonpoor_room(after, quota_share))
    nonpoor_ok = _rank_within(first_pick & ~poor, start) < keep[slot]
    extra_poor = _rank_within(~first_pick & poor, start) < swaps[slot]
    accepted = (first_pick & (poor | nonpoor_ok)) | (~first_pick & poor & extra_poor)
    hired = np.zeros(len(target), dtype=bool)
    hired[applying[order]] = accepted
    return hired


def quota_swaps(
    staff: Staff,
    poor_picked: np.ndarray,
    nonpoor_picked: np.ndarray,
    poor_waiting: np.ndarray,
    quota_share: float,
) -> np.ndarray:
    """Non-poor picks each workshop replaces by poor applicants to meet the quota.

    The fewest swaps x with (poor staff + poor picked + x) >= quota x (staff + picked),
    the head count staying the same; at most the non-poor picked and the poor applicants
    waiting (not picked).
    """
    if quota_share <= 0:
        return np.zeros(len(staff.workers), dtype=np.int64)
    poor = staff.poor_workers + poor_picked
    short = quota_share * (staff.workers + poor_picked + nonpoor_picked) - poor
    needed = np.maximum(np.ceil(short - QUOTA_TOLERANCE), 0).astype(np.int64)
    return np.minimum(needed, np.minimum(nonpoor_picked, poor_waiting))


def _hiring_order(slot: np.ndarray, score: np.ndarray, n_slots: int) -> np.ndarray:
    """Applicants by workshop, then by score, then by position (`n_slots` is not needed).

    The twin of `model.compiled.matching.hiring_order`.
    """
    return np.lexsort((score, slot))


hiring_order = twin(
    compiled_matching.hiring_order,
    _hiring_order,
    test="tests/model/test_compiled_matching.py::test_hiring_order_twins_are_identical",
)


def _rank_within(mask: np.ndarray, group_start: np.ndarray) -> np.ndarray:
    """0-based rank of each True entry among the True entries of its group.

    The input is sorted by group; entries where `mask` is False get a rank too large to
    count.
    """
    before = np.concatenate(([0], np.cumsum(mask)))
    rank = before[1:] - before[group_start] - 1
    return np.where(mask, rank, np.iinfo(np.int64).max)


def release(people: People, leavers: np.ndarray) -> None:
    """Leavers lose their employer, tenure and hiring-bonus status."""
    people.employer[leavers] = NO_EMPLOYER
    people.tenure[leavers] = 0
    people.bonus_paid[leavers] = False


def take_up(people: People, persons: np.ndarray, slots: np.ndarray, activities: np.ndarray) -> None:
    """Persons start at their new workshops.

    Those coming from outside workshops keep last month's earnings as their before-job
    income; those moving between workshops keep the one they had.
    """
    newcomers = persons[people.employer[persons] == NO_EMPLOYER]
    people.earnings_before_job[newcomers] = people.earnings[newcomers]
    release(people, persons)
    people.employer[persons] = slots
    people.activity[persons] = activities
