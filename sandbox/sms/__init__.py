"""A local SMS Gateway for Android for tests and drills: its HTTP API, signed webhooks, faults."""

from sandbox.sms.gateway import CLOUD_ROOT, Delivery, SentSms, SmsGatewaySandbox, sign

__all__ = ["CLOUD_ROOT", "Delivery", "SentSms", "SmsGatewaySandbox", "sign"]
