"""The SMS channel on SMS Gateway for Android: an Android phone with a local SIM sends our
replies through its HTTP API and posts the SMS it receives to our webhook. GSM-7 and segments
(`gsm7`), replies as SMS texts (`render`), the gateway's API (`gateway`), the durable paced
outbox (`outbox`), the signed webhook (`webhook`), the adapter on the port (`channel`)."""
