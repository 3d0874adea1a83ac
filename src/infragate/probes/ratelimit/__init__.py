"""Rate limits: ``estimator`` turns what a bucket (nginx's, a token bucket) admitted into a rate and a
burst; ``windows`` simulates window limiters (fixed, sliding log, HAProxy's sliding counter,
counting rejected requests or not) and fits them; ``measure`` runs the open-loop overload and the
recovery, of one route or several at once; ``batches`` picks which routes go at once;
``isolation`` overloads routes beside calm clients and routes; ``findings`` holds what they found
and judges it."""
