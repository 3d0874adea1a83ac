"""infragate's load engine: open-model arrivals inside Locust, measured into HdrHistograms.

The parent side (``plan``, ``histogram``, ``runner``, ``result``, ``load_page``) never imports
gevent; ``engine`` and its HTTP client ``connection`` run only inside a Locust process, which
monkey-patches the interpreter.
"""
