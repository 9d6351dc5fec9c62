"""ferry_leaf_id: the file name ferry's labCert gives a certificate
(templates/pki.go leafID), so that Ansible installs the very PEM ferry made."""
import hashlib
import re


def ferry_leaf_id(cn, sans):
    names = sorted({n.strip() for n in [cn] + list(sans) if n and n.strip()})
    digest = hashlib.sha256((cn + "\0" + "\0".join(names)).encode()).hexdigest()[:16]
    safe = re.sub(r"[^a-zA-Z0-9.-]", "_", cn)[:64]
    return safe + "-" + digest


class FilterModule(object):
    def filters(self):
        return {"ferry_leaf_id": ferry_leaf_id}
