"""Where each default figure of the business case comes from (``costs.*`` keys).

The figures are the public ones gathered in the project's reference note on costs and trends;
each default says its source and year here, in docs/scenario.md and in every
report. An authority's own figures always beat them: set the key in the scenario file.
"""

from __future__ import annotations

SOURCES: dict[str, str] = {
    "capital_per_place": (
        "£19,559 a place: Oldham Council's three resourced-provision schemes, 52 places for"
        " £1,017,045 (Richmond Academy 20 for £310,341, Greenhill Academy 20 for £329,364,"
        " St Thomas Moorside 12 for £377,340; cabinet papers, undated; the division is"
        " sitefinder's). National averages that include new special schools are higher:"
        " about £74,000 a place (DfE High Needs Provision Capital Allocation, March 2025)"
    ),
    "capital_per_base": (
        "£0: the per-place figure is whole schemes' cost divided by their places, so a"
        " base's fixed cost is already in it (an assumption)"
    ),
    "revenue_per_place": (
        "£17,412 a place a year: £6,000 place funding for SEN units and resourced provision"
        " (DfE, High needs funding 2025 to 2026 operational guide) + £11,412 top-up, the"
        " lowest of Devon's special school top-ups (Devon County Council FOI, 2023-24), a"
        " stand-in: no public top-up for a base was found"
    ),
    "transport_per_child": (
        "£4,058 a child a year: half of the £8,116 a year England spent on home-to-school"
        " transport for each child with SEND (National Audit Office, Home to school"
        " transport, 2023-24), taken as the fixed part (vehicle, passenger assistant) by"
        " assumption"
    ),
    "transport_per_minute": (
        "£135 a child a year for each minute of one-way journey: the other half of the NAO's"
        " £8,116 (2023-24) spread over an assumed 30-minute journey (£4,058 / 30); no public"
        " cost per minute or mile was found, so replace it with your contract rates"
    ),
    "special_place": (
        "£24,484 a child a year: £10,000 place funding for special schools (DfE, High needs"
        " funding 2025 to 2026 operational guide) + £14,484 top-up, the middle of Devon's"
        " £11,412-£17,556 (Devon County Council FOI, 2023-24)"
    ),
    "independent_place": (
        "£64,000 a child a year: independent and non-maintained special schools, cost per"
        " pupil with an EHC plan, 2024-25 (UK Parliament written question 100030)"
    ),
    "non_maintained_place": (
        "£64,000 a child a year: independent and non-maintained special schools, 2024-25"
        " (UK Parliament written question 100030)"
    ),
    "out_of_authority_place": (
        "£64,000 a child a year: taken as an independent placement, 2024-25 (UK Parliament"
        " written question 100030); an assumption"
    ),
    "base_cross_border_place": (
        "£17,412 a child a year: a base place across the border costs what one here does"
        " (costs.revenue_per_place; an assumption)"
    ),
    "discount_rate": (
        "3.5% a year: HM Treasury Green Book social time preference rate (2022 edition)"
    ),
    "appraisal_years": "10 years: an appraisal period chosen by sitefinder (an assumption)",
}
"""Each ``costs.*`` key's default and its source and year, in words."""
