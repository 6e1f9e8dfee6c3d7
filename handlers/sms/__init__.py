"""The SMS channel on SMS Gateway for Android: an Android phone with a local SIM sends our
replies through its HTTP API and posts the SMS it receives to our webhook."""
