"""Administration of users and teams (admins only)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.admin import bp
from blueprints.admin.forms import (
    ConfirmForm,
    MoveMemberForm,
    PasswordResetForm,
    TeamForm,
    UserCreateForm,
    UserEditForm,
)
from blueprints.common import confirm_or_ask, write
from crm.extensions import db
from crm.permissions import MAX_RECORD_ID, admin_required
from crm.services.people import picker as people_picker
from crm.services.people import teams as team_service
from crm.services.people import tokens
from crm.services.people import users as user_service
from models import Level, Role, Team, User


@bp.route("/")
@admin_required
def index():
    """The Settings menu as a page: where its link leads when JavaScript does not run."""
    return render_template("admin/index.html")


# Users ----------------------------------------------------------------------


@bp.route("/users")
@admin_required
def users():
    filters = user_service.UserFilters.from_args(request.args)
    page = db.paginate(
        user_service.users_for_admin(viewer=current_user, filters=filters),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "admin/users.html",
        page=page,
        filters=filters,
        roles=list(Role),
        teams=team_service.teams_by_name(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user():
    form = UserCreateForm(teams=team_service.teams_by_name())
    if form.validate_on_submit():
        outcome = write(
            lambda: user_service.create_user(
                actor=current_user,
                username=form.username.data,
                display_name=form.display_name.data,
                password=form.password.data,
                email=form.email.data,
                role=Role(form.role.data),
                level=Level(form.level.data),
                team=team_service.team_by_id(form.team_id.data),
                locale=form.locale.data,
                timezone=form.timezone.data,
            ),
            done=lambda user: _("User %(name)s is created.", name=user.username),
            to=lambda user: url_for("admin.edit_user", user_id=user.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template("admin/user_new.html", form=form), 400 if form.errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user, teams=team_service.teams_by_name())
    if not form.is_submitted():
        form.role.data = user.role.value
        form.level.data = user.level.value
        form.team_id.data = user.team_id or 0
    if form.validate_on_submit():
        outcome = write(
            lambda: user_service.update_user(
                user,
                actor=current_user,
                display_name=form.display_name.data,
                email=form.email.data,
                role=Role(form.role.data),
                level=Level(form.level.data),
                team=team_service.team_by_id(form.team_id.data),
            ),
            done=lambda _result: _("Changes to %(name)s are saved.", name=user.username),
            to=url_for("admin.edit_user", user_id=user.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template(
        "admin/user_edit.html",
        user=user,
        form=form,
        password_form=PasswordResetForm(formdata=None),
        confirm_form=ConfirmForm(),
        owned=user_service.owned_customer_count(user),
        api_tokens=tokens.tokens_of(user),
    ), 400 if form.errors else 200


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@admin_required
def reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = PasswordResetForm()
    page = url_for("admin.edit_user", user_id=user.id)
    if not form.validate_on_submit():
        for message in form.new_password.errors or [_("The form expired; please try again.")]:
            flash(str(message), "danger")
        return redirect(page)
    return write(
        lambda: user_service.reset_password(
            user, actor=current_user, new_password=form.new_password.data
        ),
        done=lambda _result: _("The password of %(name)s is reset.", name=user.username),
        to=page,
        back=page,
    ).response


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@admin_required
def deactivate_user(user_id: int):
    user = db.get_or_404(User, user_id)
    confirm_or_ask(
        _("Deactivate %(name)s? They can no longer sign in.", name=user.username),
        button=_("Deactivate"),
    )
    page = url_for("admin.edit_user", user_id=user.id)
    return write(
        lambda: user_service.deactivate_user(user, actor=current_user),
        done=lambda _result: _("%(name)s is deactivated.", name=user.username),
        to=page,
        back=page,
    ).response


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@admin_required
def reactivate_user(user_id: int):
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    page = url_for("admin.edit_user", user_id=user.id)
    return write(
        lambda: user_service.reactivate_user(user, actor=current_user),
        done=lambda _result: _("%(name)s is active again.", name=user.username),
        to=page,
        back=page,
    ).response


# Teams ----------------------------------------------------------------------


@bp.route("/teams")
@admin_required
def teams():
    rows = team_service.teams_with_members(viewer=current_user)
    return render_template("admin/teams.html", teams=rows)


def _offer_supervisors(form: TeamForm, team: Team | None = None) -> None:
    """The supervisor picker's short list: the first by name, the chosen one, and the team's
    supervisor even once deactivated (a team keeps its leader until the admin changes it)."""
    supervisors = people_picker.people_shortlist(
        current_user,
        chosen=form.supervisor_id.data,
        roles=(Role.SUPERVISOR,),
        with_username=True,
    )
    if team is not None and team.supervisor is not None:
        leader = team.supervisor
        supervisors = supervisors.keeping(leader.id, f"{leader.display_name} ({leader.username})")
    form.offer_supervisors(supervisors, url_for("people.pick", role=Role.SUPERVISOR))


@bp.route("/teams/new", methods=["GET", "POST"])
@admin_required
def new_team():
    form = TeamForm()
    _offer_supervisors(form)
    if form.validate_on_submit():
        outcome = write(
            lambda: team_service.create_team(
                actor=current_user,
                name=form.name.data,
                supervisor=user_service.chosen_user(
                    form.supervisor_id.data,
                    field="supervisor_id",
                    refusal=team_service.SUPERVISOR_REFUSAL,
                ),
            ),
            done=lambda team: _("Team %(name)s is created.", name=team.name),
            to=lambda team: url_for("admin.edit_team", team_id=team.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template("admin/team_form.html", form=form, team=None), (
        400 if form.errors else 200
    )


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@admin_required
def edit_team(team_id: int):
    team = db.get_or_404(Team, team_id)
    form = TeamForm(obj=team)
    if not form.is_submitted():
        form.supervisor_id.data = team.supervisor_id or 0
    _offer_supervisors(form, team)
    if form.validate_on_submit():
        outcome = write(
            lambda: team_service.update_team(
                team,
                actor=current_user,
                name=form.name.data,
                supervisor=user_service.chosen_user(
                    form.supervisor_id.data,
                    field="supervisor_id",
                    refusal=team_service.SUPERVISOR_REFUSAL,
                ),
            ),
            done=lambda team: _("Team %(name)s is saved.", name=team.name),
            to=url_for("admin.edit_team", team_id=team.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    move_form = MoveMemberForm(formdata=None)
    move_form.offer_people(
        people_picker.people_shortlist(current_user, with_username=True), url_for("people.pick")
    )
    return render_template(
        "admin/team_form.html",
        form=form,
        team=team,
        move_form=move_form,
        confirm_form=ConfirmForm(),
    ), 400 if form.errors else 200


@bp.route("/teams/<int:team_id>/members", methods=["POST"])
@admin_required
def add_member(team_id: int):
    team = db.get_or_404(Team, team_id)
    form = MoveMemberForm()  # any user's id: the picker offers every active one
    page = url_for("admin.edit_team", team_id=team.id)
    if not form.validate_on_submit():
        flash(_("Choose a user to move."), "danger")
        return redirect(page)
    user = (
        user_service.user_by_id(form.user_id.data) if form.user_id.data <= MAX_RECORD_ID else None
    )
    if user is None:
        abort(404)
    return write(
        lambda: team_service.move_member(user, actor=current_user, team=team),
        done=lambda _result: _(
            "%(name)s moved to %(team)s.", name=user.display_name, team=team.name
        ),
        to=page,
        back=page,
    ).response


@bp.route("/teams/<int:team_id>/members/<int:user_id>/remove", methods=["POST"])
@admin_required
def remove_member(team_id: int, user_id: int):
    team = db.get_or_404(Team, team_id)
    user = db.get_or_404(User, user_id)
    if user.team_id != team.id:
        abort(404)
    confirm_or_ask(
        _("Take %(name)s out of %(team)s?", name=user.display_name, team=team.name),
        button=_("Remove"),
    )
    page = url_for("admin.edit_team", team_id=team.id)
    return write(
        lambda: team_service.move_member(user, actor=current_user, team=None),
        done=lambda _result: _("%(name)s left %(team)s.", name=user.display_name, team=team.name),
        to=page,
        back=page,
    ).response
