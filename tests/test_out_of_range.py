"""A number no database column can hold, in a URL or a filter, is "not found" — never a 500."""

from __future__ import annotations

import pytest

HUGE = "9" * 40

# Records named in the path or picked by id: no record can have such an id.
NOT_FOUND = [
    f"/customers/{HUGE}",
    f"/opportunities/{HUGE}",
    f"/customers/?page={HUGE}",
    f"/visits/?member={HUGE}",
    f"/reminders/?owner={HUGE}",
    f"/?team={HUGE}",
    f"/service/{HUGE}",
    f"/service/new?customer_id={HUGE}",
]
# List filters drop a value they cannot use, as they drop any other unknown value.
DROPPED = [
    f"/customers/?owner={HUGE}",
    f"/customers/?industry={HUGE}",
    f"/opportunities/?owner={HUGE}",
    f"/opportunities/?been_in={HUGE}",
    f"/opportunities/?stage={HUGE}&lost_to={HUGE}",
    f"/opportunities/board?customer={HUGE}",
    f"/competitors/?competitor={HUGE}",
    f"/service/?customer={HUGE}&owner={HUGE}&page={HUGE}",
]


@pytest.mark.parametrize("url", NOT_FOUND)
def test_a_huge_id_is_not_found(client, login, org, url):
    login(client, org["admin"])
    assert client.get(url).status_code == 404
    # The failed statement left the session usable.
    assert client.get("/customers/").status_code == 200


@pytest.mark.parametrize("url", DROPPED)
def test_a_huge_id_in_a_list_filter_is_dropped(client, login, org, url):
    login(client, org["admin"])
    response = client.get(url)
    assert response.status_code == 200
    assert f'value="{HUGE}"' not in response.get_data(as_text=True)  # not kept as a filter
