"""Rendering for people and machines: tables and JSON on the terminal, the trace tree, the HTML
trace page. A face: the core never imports it."""
