"""Language helpers: locale selection and reference data written in French and English."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import SQLColumnExpression, func
from sqlalchemy.exc import SQLAlchemyError


def select_locale() -> str:
    """The user's saved choice, else the session's choice, else the browser's, else French."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # command line, jobs: the instance's default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user_locale = _user_locale()
    if user_locale and user_locale in languages:
        return user_locale
    if session.get("locale") in languages:
        return session["locale"]
    best = request.accept_languages.best_match(languages)
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


# Each language named in itself (as the language switch names them): whoever reads the list
# finds their own language whatever the page's.
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def language_choices() -> list[tuple[str, str]]:
    """The instance's languages (`LANGUAGES`) as (code, name) choices of a form."""
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]]


def recipient_locale(preferred: str | None) -> str:
    """The language a message to someone is written in: theirs (an account's `locale`, a
    patient's `language`) when the instance offers it, else the instance's default language;
    never the language of whoever triggered the job or made the request."""
    if preferred and preferred in current_app.config["LANGUAGES"]:
        return preferred
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _user_locale() -> str | None:
    """The signed-in user's language, kept on `g` by the sign-in loaders. Loads the user when
    nothing did yet, unless the database is known to be unavailable (an error page then takes
    the session's or the browser's language rather than waiting for the database again)."""
    if "user_locale" not in g and not g.get("database_unavailable"):
        try:
            user = current_user._get_current_object()  # the loader keeps its locale on g
            if "user_locale" not in g:  # anonymous, or signed in during this request
                g.user_locale = getattr(user, "locale", None)
        except SQLAlchemyError:
            g.database_unavailable = True
    return g.get("user_locale")


def reads_english() -> bool:
    """Whether the reader's language (the request's, else the instance's) is English."""
    locale = get_locale()
    return locale is not None and locale.language == "en"


def in_reader_language(french: str, english: str | None) -> str:
    """A reference text in the reader's language: the English one for an English reader when
    there is one, else the French one (the councils' working language)."""
    if reads_english():
        return english or french
    return french


def localized_column(french: SQLColumnExpression[str],
                     english: SQLColumnExpression[str | None]) -> SQLColumnExpression[str]:
    """`in_reader_language` in SQL, for a statement selecting columns rather than rows."""
    if reads_english():
        return func.coalesce(func.nullif(english, ""), french)
    return french


class Localized:
    """Reference data kept in French (the councils' working language) with an English text:
    each text column `x` has its `x_en`, read by `localized("x")` (French when it is empty)."""

    def localized(self, attribute: str) -> str:
        return in_reader_language(getattr(self, attribute),
                                  getattr(self, attribute + "_en", None))

    @property
    def display_name(self) -> str:
        return self.localized("name")

    @property
    def display_description(self) -> str:
        return self.localized("description")

    @property
    def display_label(self) -> str:
        return self.localized("label")
