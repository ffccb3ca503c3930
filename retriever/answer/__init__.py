"""Answers: mark the answer span in passages, choose the answer, compose the chat reply.

Import from the modules; this one imports nothing, so the API's answering code does
not load the span model's engines until a reader is loaded.
"""
