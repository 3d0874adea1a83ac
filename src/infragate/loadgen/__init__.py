"""infragate's load engine: open-model arrivals inside Locust, measured into HdrHistograms.

The parent side (``plan``, ``histogram``, ``runner``, ``result``) never imports gevent; ``engine``
runs only inside a Locust process, which monkey-patches the interpreter.
"""
