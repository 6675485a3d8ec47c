"""The templates' gettext: Flask-Babel's translations, looked up once per locale in use.

Flask-Babel's template callables ask for the translations on every string: nine lookups
through Flask's context proxies, 10–18 µs a call, and a list page calls them hundreds of
times (a review queue of 50 plans: about 500). These read the same translations Flask-Babel
would return, keeping them beside the locale in the context's Babel state: a new locale
(another user's, or `force_locale` while an email is rendered in its recipient's language)
is a new Locale object there, so it is looked up afresh, never carried over.
"""

from __future__ import annotations

from babel.support import NullTranslations
from flask import Flask, g
from flask_babel import get_translations

_KEY = "crm_translations"


def translations() -> NullTranslations:
    """What flask_babel.get_translations() returns, with one proxy lookup when it is known."""
    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    domain = getattr(state, "babel_domain", None)
    known = getattr(state, _KEY, None)
    if known is not None and locale is not None and known[0] is locale and known[1] is domain:
        return known[2]
    found = get_translations()  # chooses the state's locale and domain when not yet chosen
    state = g.get("_flask_babel")
    if state is not None:
        setattr(state, _KEY, (state.babel_locale, getattr(state, "babel_domain", None), found))
    return found


def install(app: Flask) -> None:
    """Replace Flask-Babel's template callables (after babel.init_app) with these."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
