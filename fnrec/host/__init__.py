"""Host side: runs outside traced code (numpy, files, clocks, encoders, Gymnasium env classes).

Its public names are reached from the package root only (``fnrec.VideoWriter``, not
``fnrec.host.VideoWriter``): ``fnrec._host_names.NAMES`` lists them (name -> module) and the root
loads each on first use, so that importing the traced side never loads a host module.
"""
