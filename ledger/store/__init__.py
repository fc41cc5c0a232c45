"""Where events live: store URLs, the recorders (events, keys and hash chain in one transaction),
the msgpack transcoder, the cipher, and the SQL databases the read models share with the events."""
