def test_home_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.location


def test_manager_sees_own_customer_count(client, org, make_customer, login):
    make_customer(org["m1"])
    make_customer(org["m1"])
    make_customer(org["m2"])
    login(client, org["m1"])
    page = client.get("/").get_data(as_text=True)
    assert 'id="customer-count">2<' in page
