"""The templates' gettext keeps Flask-Babel's translations per locale in use, never longer."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, get_translations

from crm import template_gettext


def test_it_returns_flask_babels_translations_for_each_locale_in_one_context(app):
    with app.test_request_context("/"):
        first = template_gettext.translations()
        assert first is get_translations()
        with force_locale("en"):
            english = template_gettext.translations()
            assert english is get_translations()
            assert render_template_string("{{ _('Customers') }}") == "Customers"
        with force_locale("zh_CN"):
            assert template_gettext.translations() is get_translations()
            assert render_template_string("{{ _('Customers') }}") == "客户"
        # Back outside: the context's own locale again, not the last one forced.
        assert template_gettext.translations() is first


def test_two_users_in_two_languages_get_their_own_words(client, login, make_user):
    english = make_user(locale="en")
    chinese = make_user(locale="zh_CN")
    login(client, english)
    assert ">Customers<" in client.get("/customers/").text
    other = client.application.test_client()
    login(other, chinese)
    assert ">客户<" in other.get("/customers/").text
    assert ">Customers<" in client.get("/customers/").text
