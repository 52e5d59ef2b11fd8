# Same as the harness's home/pylib/local_net.py (this directory replaces it on PYTHONPATH).
def loopback_hostname():
    return '127.0.0.1'
