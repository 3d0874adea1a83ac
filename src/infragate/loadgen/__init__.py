"""infragate's load engine: open-model arrivals inside Locust, measured into HdrHistograms.

The parent side (``plan``, ``histogram``, ``runner``, ``result``, ``load_page``) never imports
gevent; ``engine``, its HTTP client ``connection`` and its counters ``tally`` run only inside a
Locust process, which monkey-patches the interpreter.
"""
