from rest_framework import serializers

from accounts.models import User
from paas.api.serializers import StrictBooleanField, StrictInputSerializer


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "created_at"]
        read_only_fields = fields


class AdminUserSerializer(serializers.ModelSerializer):
    # Annotated by accounts.selectors (constant queries); "0.00" before the first movement.
    balance = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "is_active", "last_login", "created_at", "updated_at", "balance"]
        read_only_fields = fields


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class AuthResultSerializer(serializers.Serializer):
    user = UserSerializer()
    access = serializers.CharField()
    refresh = serializers.CharField()


class RegisterInputSerializer(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(max_length=150)


class LoginInputSerializer(StrictInputSerializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class RefreshInputSerializer(StrictInputSerializer):
    refresh = serializers.CharField(max_length=2048)


class ProfileUpdateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=150)


class ChangePasswordInputSerializer(StrictInputSerializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordResetInputSerializer(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInputSerializer(StrictInputSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class AdminUserCreateInputSerializer(RegisterInputSerializer):
    role = serializers.ChoiceField(choices=User.Role.choices, default=User.Role.USER)


class AdminUserUpdateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=150, required=False)
    role = serializers.ChoiceField(choices=User.Role.choices, required=False)
    is_active = StrictBooleanField(required=False)
