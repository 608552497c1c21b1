"""Rights rules: may an asset be used like this, when does its license lapse, is it compliant?

Pure functions over :mod:`contentops.models` values: no Airflow, no HTTP, no clock (every
function takes the date it decides for, so a backfill reproduces past decisions).

How a license is read (the choices, and why)
============================================

* **Terms are alternative grants.** A Smint.io LPT carries ``license_terms[]``; a use is
  *allowed* when at least one term allows every dimension of it, *refused* when every term
  refuses it, and *unknown* when no term allows it and at least one cannot be decided.
* **Per dimension** (region, channel, language, industry, usage, size, placement) a term has an
  ``allowed_*`` and a ``restricted_*`` list of metadata keys:

  - ``restricted_*`` wins: a restricted key that overlaps the wanted value refuses the term.
  - ``allowed_*`` must *cover* the wanted value (all of it: a use in ``europe`` is not covered
    by ``["de", "fr"]``). Wildcard keys (``any``, ``worldwide`` ...) cover everything.
  - ``allowed_* = None`` is **unknown**, never allowed ("null means we do not know", Smint.io's
    own guidance, api-notes §1.5). An empty list is read as ``None`` by the model: Smint.io's
    integration cores treat ``[]`` as "not stated" (see :class:`~contentops.models.smintio.LicenseTerm`).
  - ``restricted_* = None`` means no restriction is declared. Restrictions are limits, not
    permissions: reading a missing limit as "unknown" would make almost every real license
    undecidable, and a missing *permission* is already unknown.
  - A key the catalogue cannot resolve (e.g. a region key we have never seen) makes the
    answer unknown when it could change it, never allowed.
  - A dimension the :class:`~contentops.models.domain.IntendedUse` leaves ``None`` is not checked.
* **Dates.** ``valid_from <= on_date <= valid_until`` and ``on_date <= to_be_used_until``. A
  missing date means *no limit* on that side: Smint.io terms for royalty-free stock commonly
  carry no end date (perpetual), and the end date is a limit, not a permission. What *is*
  unknown is a license with no terms at all (neither on the LPT nor on its offering).
  Bare dates on end fields are inclusive (see :data:`contentops.models.common.UtcEndOfDay`).
* **Editorial use.** "Editorial use only" (``is_editorial_use``) flags on the term, the content
  element or the offering: any ``True`` refuses a commercial use; all ``None`` is unknown.
* **Counters.** ``current + planned > effective_max`` refuses (downloads, users, reuses). A
  missing cap is no cap; a cap with a missing counter is unknown.
* **License state.** Only ``"completed"`` (the one sourced value) grants anything; another
  state refuses, a missing state is unknown.

Catalogues
==========
Smint.io geography/language keys are metadata keys. :class:`RegionCatalogue` resolves
geography keys to sets of ISO-3166 countries (``worldwide`` ⊃ ``europe``/``emea``/``apac``/
``dach``/... ⊃ countries; ``germany``, ``de``, ``geography_de`` all mean ``de``).
:class:`LanguageCatalogue` maps ``language_english`` ... ``any`` to ISO 639-1.
:class:`ChannelCatalogue` is an open catalogue of distribution keys with a few groups. All
three are data, overridable from config with ``from_config``. The region and language keys are
*modelled* (the real key lists live in the tenant's generic metadata, not in public sources),
except the Smint.io language keys, which are sourced (api-notes §1.4).

Modules
=======
:mod:`~contentops.rights.catalogues` (and its data, :mod:`~contentops.rights.region_table`),
:mod:`~contentops.rights.dimensions` and :mod:`~contentops.rights.terms` (one term),
:mod:`~contentops.rights.license` (the license as a whole), :mod:`~contentops.rights.decisions`
(the gate), :mod:`~contentops.rights.lapse` (lapse dates, the sweep),
:mod:`~contentops.rights.compliance` (content criteria, sign-off) and
:mod:`~contentops.rights.usage` (usage reconciliation). Import the public names from this package.
"""

from __future__ import annotations

from contentops.rights.catalogues import (
    ChannelCatalogue,
    KeyCatalogue,
    LanguageCatalogue,
    RegionCatalogue,
    normalize_key,
)
from contentops.rights.compliance import meets_compliance, sign_off_restrictions
from contentops.rights.decisions import evaluate, evaluate_derivative, may_derive
from contentops.rights.lapse import assess_for_sweep, expires_within, expiry, usable_until
from contentops.rights.standing import CopyStanding, copy_standing
from contentops.rights.terms import DERIVATIVE_RESTRICTION_KEYS, term_end
from contentops.rights.usage import reconcile_usage

__all__ = [
    "DERIVATIVE_RESTRICTION_KEYS",
    "ChannelCatalogue",
    "CopyStanding",
    "KeyCatalogue",
    "LanguageCatalogue",
    "RegionCatalogue",
    "assess_for_sweep",
    "copy_standing",
    "evaluate",
    "evaluate_derivative",
    "expires_within",
    "expiry",
    "may_derive",
    "meets_compliance",
    "normalize_key",
    "reconcile_usage",
    "sign_off_restrictions",
    "term_end",
    "usable_until",
]
