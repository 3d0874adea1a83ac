"""The Kubernetes reference cluster: a real single node built from Kubernetes' Go modules.

``cluster`` brings it up and down; ``config`` renders every component's configuration and command
line; ``cluster_pki`` makes its certificates; ``containerd_images`` makes and imports its images;
``workload`` is the marketplace's workload; ``cluster_profile`` what it promises; ``node`` what the
node changes on the machine and takes back.
"""
