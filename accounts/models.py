import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower

from paas.models import TimeStampedModel


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields["role"] = User.Role.ADMINISTRATOR
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, email: str) -> "User":
        return self.get(email__iexact=email)


class User(AbstractBaseUser, TimeStampedModel):
    """A person who logs in with their email: a customer (USER) or an operator (ADMINISTRATOR).

    ``role`` is the only source of admin rights: ``is_staff`` and ``is_superuser`` are derived
    from it, so they can never disagree.
    """

    class Role(models.TextChoices):
        USER = "USER", "User"
        ADMINISTRATOR = "ADMINISTRATOR", "Administrator"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.USER, db_index=True)
    is_active = models.BooleanField(default=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["USER", "ADMINISTRATOR"]), name="accounts_user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_administrator(self) -> bool:
        return self.role == self.Role.ADMINISTRATOR

    @property
    def is_staff(self) -> bool:
        return self.is_administrator

    @property
    def is_superuser(self) -> bool:
        return self.is_administrator

    # There is one operator role, so Django's per-model permissions collapse to it.
    def has_perm(self, perm, obj=None) -> bool:
        return self.is_active and self.is_administrator

    def has_perms(self, perm_list, obj=None) -> bool:
        return self.is_active and self.is_administrator

    def has_module_perms(self, app_label) -> bool:
        return self.is_active and self.is_administrator

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name
