from django import forms
from django.contrib import admin
from django.contrib.auth.forms import ReadOnlyPasswordHashField
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.urls import reverse
from django.utils.html import format_html_join

from paas.admin import AuditedAdmin
from paas.audit import audit_record, audited, snapshot
from paas.formatting import rupiah

from . import services
from .exceptions import SelfLockout
from .models import User
from .selectors import user_list_admin


class UserCreationForm(forms.ModelForm):
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ["email", "name", "role"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password"):
            candidate = User(email=cleaned.get("email", ""), name=cleaned.get("name", ""))
            try:
                validate_password(cleaned["password"], user=candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class UserChangeForm(forms.ModelForm):
    password = ReadOnlyPasswordHashField(help_text="Stored hashed. Users change or reset their own password.")

    class Meta:
        model = User
        fields = ["email", "name", "role", "is_active", "password"]

    # Set by UserAdmin.get_form: the operator editing, to refuse self-lockout before saving.
    actor: User | None = None

    def clean(self):
        cleaned = super().clean()
        is_self = self.actor is not None and self.instance.pk == self.actor.pk
        locks_out = cleaned.get("is_active") is False or cleaned.get("role", self.instance.role) != self.instance.role
        if is_self and locks_out:
            raise forms.ValidationError(SelfLockout.default_message)
        return cleaned


# Access is the user's role alone; Django's groups and permissions are not used.
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(AuditedAdmin):
    list_display = ["email", "name", "role", "is_active", "balance", "last_login", "created_at"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "name"]
    ordering = ["-created_at"]
    actions = ["deactivate_users"]
    fieldsets = [
        (None, {"fields": ["id", "email", "name", "password"]}),
        ("Access", {"fields": ["role", "is_active"]}),
        ("History", {"fields": ["last_login", "created_at", "updated_at"]}),
        ("Everything of theirs", {"fields": ["related"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "name", "role", "password"]})]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = UserChangeForm if obj else UserCreationForm
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user
        return form

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj else self.add_fieldsets

    def get_readonly_fields(self, request, obj=None):
        # The email is the login: changing it is a support procedure, not a form edit.
        return ["id", "email", "last_login", "created_at", "updated_at", "related"] if obj else []

    def get_queryset(self, request):
        return user_list_admin()

    @admin.display(description="balance", ordering="balance")
    def balance(self, obj):
        return rupiah(obj.balance)

    @admin.display(description="links")
    def related(self, obj):
        links = [
            ("wallet", "billing_wallet", "user__id__exact"),
            ("ledger", "billing_transaction", "user__id__exact"),
            ("subscriptions", "subscriptions_subscription", "user__id__exact"),
            ("instances", "pods_serviceinstance", "owner__id__exact"),
            ("emails", "notifications_emailmessage", "user__id__exact"),
            ("webhooks", "notifications_webhookendpoint", "user__id__exact"),
        ]
        return format_html_join(
            " · ",
            '<a href="{}?{}={}">{}</a>',
            ((reverse(f"admin:{view}_changelist"), param, obj.pk, label) for label, view, param in links),
        )

    def save_model(self, request, obj, form, change):
        if change:
            data = {k: form.cleaned_data[k] for k in ("name", "role", "is_active")}
            original = User.objects.get(pk=obj.pk)
            audited(
                request.user,
                "user.change",
                original,
                lambda: services.user_update_by_admin(actor=request.user, user=original, data=data),
            )
        else:
            created = services.user_create(
                email=obj.email, password=form.cleaned_data["password"], name=obj.name, role=obj.role
            )
            audit_record(actor=request.user, action="user.create", target=created, after=snapshot(created))
            obj.pk = created.pk

    # Accounts with a ledger or history must keep existing: deactivate instead.
    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Deactivate selected users (and sign them out)")
    def deactivate_users(self, request, queryset):
        self.run_each(
            request,
            queryset,
            "user.deactivate",
            lambda user: services.user_deactivate(actor=request.user, user=user),
            "deactivated",
        )
