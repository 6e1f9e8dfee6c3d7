"""The live dashboard (bảng theo dõi): a read-only web page per unit, served by the bot."""
