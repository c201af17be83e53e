"""Alpha mask of Gymnasium's Pendulum torque arrow (assets/clockwise.png), embedded as data.

The image is a black arrow on a transparent background; only its alpha channel is kept,
zlib-compressed and base64-encoded, so no file is read. Gymnasium (MIT licence,
Copyright (c) 2022 Farama Foundation) ships the original.
"""

from __future__ import annotations

import base64
import zlib

import jax
import jax.numpy as jnp

SHAPE = (312, 329)
_DATA = (
    "eNrtnXlcFVUbgC/3XlBxwx1QTBP83HNNcUmyTdw1tK/NDBW11EorTb9Kc0HJNFfcF0xF++W+Vpp75r5GpsKHiCnKIgYKXDiJ"
    "xrxntjNzZy5wl/f5S++ZO3PmYeae/T0Gg6MQSR6RlXLn2qWT+7Ysj/j43e5t/UwGxGoWEDE51w+vCR/QugLa0SmygNv754c2"
    "90BHqphFFMg+tTS0LnpSJJyoIWnz6JZGlKVfZD53owfVRF+yTCXW8Pu01vhgSjOWWMnNhZ3dUZsNROa/5Avau6E5G4h8RHx4"
    "fXQnQekKtf/TokPX/qOmLNl2PlWdy6MDy6A4NmUaBn8QuTdRUWX6ohYoSwXlWg9bfOIB2+XpwaVQlCrcnwlbfY2l8s4UX7Sk"
    "Fp++c2MYjcg1zVCRevwGRt+RU5m3oy0KsgJj+6+vyLnc9wL6sYqG487IqDzUHu1YR4NJMqXPjqYoxzrc2ixKlzKZu84f5Vhb"
    "aR94TEpl1hRs7lhNq7XZUr1DodjRZjXVw+9KqDzeEs1YjefIBImfytll0YzVeIRdFatM6I1irMf8lkQ1fbMPitGgcoi4zy35"
    "v+hFA6U+TRap3FAZvWjAa0aW0OStrqhFCwG7RL1Cs0qgFi10viRUeTIArWiqC43PFI7rvIlWNOH/k/ChnI/zCbTx9m2BycNY"
    "pdRG1R+E/RjtUIo23koRDI8NQifa8N0ueCgjsG9NG27DBTMLNpZGKdpoKhgJP+GNTrRRZgXfZByO52iuCPFr57dwQoZWmsXx"
    "TN7riEo0UmkPz+SDnqhEI6bwPN6aMmx5a2YAr5vS8i4a0UpHXt957kA0opWAP3mdvWFoRCsVj/JMDkUjWvHcyTM5AI1oxX0N"
    "r8R5FY1o7sSYz5uz9jIa0WxyNm0yA+ecazfJW2Kf1hiNaGYmry+oCgrR/ExG0iaPeaIRzQ1vXtm9BaPiaMZjK23yWxSivWa+"
    "jzaJFXPtlD9PiXz4LArRTA16znkCDohpp2UGZfIIxrnSTg8LZXIG+tDOh3RPUHf0oZ2V9Jz9p9CHZkoep4O14PRJHUX3Lcrk"
    "FPShnXY5VDcvdqnpYAz1SF7BlcnacaNHcRaiD+1UvkHVgYLRh3Y6UPXyBFyWrIOvqJd7LurQjvsJaiJLIPrQTgNqHuoFrJbb"
    "qNE9HnXoqANR/eUZGFFaB/7Uy70BdeiAjvAbhDp0lNxnQeQZHJ7VQSuqWo7zJvUwh9qsBNs3OvBKApMTUYcOBlFhG6qiDu0Y"
    "T2OT2zZ0gCVNWbVRhw6+h0fyO7Shg3owgJODYYL0sBgeyeVoQwfVocmdXQt16CACHslItKGDavBIPsRoS3r4Fh7JSWhDz6/k"
    "Q9jWBTfI0QO1cmQw2tBBLahLXsId7vSwHh7JV9CGDtpQm5CgDT38CrMF/NCGDvrBIzkBbejAHM+JvI4xEvXwOTySGL9cV6Uc"
    "akA/oA09wNLZh15oQwfd4N3GcFW6ihtY77kXbehhMlQlcT9aPTSAd3sU2tADbAJ6FGXo4RN4t3FJvB78YK4AK5Y+BrpR5DAn"
    "crv8Qe6nUJQSo6FOLr9A8bXk6mhKgTpQbsuHRtxJ5qMpJS4qz7koF0fOYfeQ+jr5dblDxuSRh33RlALUiEN9mUMOPkr7EU0p"
    "YErlRA6XPqJmfhiHRGxCKgHbXG2VPuBJZNR5aEqBYbBFhlnygJOPE7G4UcIffiRbSKW3TnuyfUYIqlIAdm4ZIZW89t/EPWhK"
    "gVWcyHUSqeaCTVWxuFFiCLMmGcLtRTIbVbFpBD+SNcSpO7jEs1jcsDGmMZrbZWO5xMw+6IoNhFaaLEobnQvPKxY3CnzJmJa2"
    "n1oofwNnm7PpwalKFCb5/YXht9XjB6qEq2V52z1gcaPEXU7VS4KUEzyRmb3QFZOfOVUf8BNapPE3UcXihs0MzpRgSOE7wV7T"
    "GMacTShn6ife56aLApFY3LBpJ9NI7P1QKBKLGyZVIEInbyqAcBf5R8VND7TFArb2bEI3D6+JRGJxwwb2o+xCffpBrlhkQjW0"
    "xSCKEzWE+vQXIsFMtMVgslS3he9NKZFncOEig6Gcp5VStUtecYObZjDownn6GT48LimS7EZd8jSBJcfcZ81SpUVexzBg8lTg"
    "NP3FfbaKyIDFDQOuCZNV8InxgpxILG4YQAFd8EmPB3IiM7uhL1nOiURuJbLsQl+y7BOKLH1VXiQWN/J8LxQ5IldeJPkGhcmx"
    "SCjyF4ZHchqLGzm+EYj0TmSJzMDiRo6pApHTCZOdaEyGsQKRx9gir+Pu8TJ8yBfZJIUtknyNyqQZxhe5UsEjFjfqREo3D7Op"
    "f//dBZ2pENmF2qwFIrH8Sm/UjVHA1IjcAsJu/cj9M6rJaViUHF8ZpSmK9LzC/e/P4P7cv9cYSkbDFJYIlCbFKFrksILmYc5B"
    "H8MblEiDYXAsFjfq65F7C3biXmw2CEQanj727344f3dGaxKEUyKr/bs3auyb+Sk9uZQtj480L76DxY26tvYTqbnH/R+ndBLF"
    "WAq5jMWNLAsokY8DdN6LLvkkpRWXcrzgYJ/9j0cmpqE2MTDSZWiUPxEogVtNV49LieGONkbkrzw+hcWNmG0gcln+7L3mXIov"
    "LGqgjn/+0qPi5mX0JgLi7RrPkcwd1KZqZWBfK/oLXjszsLiR4DKE0s78awIvCUYTPXifj7sRXwnFCbkDEyBjnucnxcqtVGx+"
    "dTGKE+AGQ12JwlrNb1xSS0GK5xIsbgRU42QliyaJb8KIxuppycm6IkpbguFj1dOLk7VflDaRsXYWETCcsb3fe/xeC4TFNE6W"
    "uN3XlUs7gqKUWMuIRtWQS7uJopQ4yckSr3/1hHEH3NNKiXucq6biRFj73hhNsfGGh64Mqx3+Oqpi00Gyh6eA1Vj/UctARjWS"
    "Hs/ZiKrYzORULZJIhdghl1EVm72cqo8kUiGesQWLbTbJssFB8jFmcMmt0RULKlxNFXYtcwTKYsEIoPQY6P9ZhbJYfKEwpTlM"
    "YiARkQCCzE2VTG8OW4yURVvyGKGskY6ja4bxrxdRlzzQvUNkwvEdw03NrWvXxMkcAdvDH0Bd8ixlBivOpw/s1VISfclyVS7E"
    "HEdlmPIchL7kqKUQ0D0fWOXwJQqTYxAnKcUkd8x8WNqAwuRYp2InXtiK21IRjUnjdouT9J7sQRUt3EFvoDKDQrOF1JM/CoYb"
    "olCZNLBbeYKqo25jBElpTnGKljCOgslBpC06k8IXqoissADG2xg/iQ2El8tkjiMs5477P06KlAK60DYzj4MZQKQVWpOo12Sr"
    "2oTXYCiRxphnhVDNGotCzFeYJnAN320xP8tEIBcDc1FJB/QmxNuiel5zqXTuUFzMIGIEJydLsQ0N5XYadkoKgRHrbYrHBsG7"
    "/Rqa4/MMsWLGnjEOA1HJMYdTk6piVs8kGJWthe545QeMwy5QcXgAtCbDUR7NYBWDDDQQrTPJA+1RwEjMWVXH9yXYvatQDKub"
    "ZeZ+E4dupNgMo9UqB2KguCFt0F8BdSDq2VqVX6mZo7KvyKVYqOHxWg81IH80+AQfmGJ2SvWX2oD8pajwCRHgpL/6b8FoYs7T"
    "6DAfr3RNlcJe+EgKmEA0zXk0XsFHkkdFGDnItCqC81B8JHlQccZnW9c+T4JHsh569IY1SNk1rfvqGPgTbEKRc8HGCiu/WgYe"
    "SdLO1T3Whj1hc+tb+2XqkfzV1ccTYdMVstrqL9OP5Kuu7bEDFWW8jvVf/xS+HuvSw2DGE4S5PlsJTyqw+0RXFjkAPDzw03KC"
    "UOoEtV3XY/mberc4NJ3HKtAj5oGFZI2RNLtQmza4bAi/VjBLRXaBkiIwZYjEl3FNjyaY6kz+cNd6lkbQVU7muqbIkdRbqWML"
    "NGrL6FyXbN/Uvg8G9ug4TzmI80V+L+F6Ht32UTWXAD1nept6sl1wCu/71O3rW57pth/OZGnvah7r/A13f1nnCxlA7XYcV87F"
    "SuwDcO95nfSebSzR3hfn4Iyz6a2bT1OnC3Elj22pyl9iBf3na0adL9WF2txecdQTFGyLM06kTnjSdSb6radue5lNzmj+jTrl"
    "PFfxSI2jkoTytjlnXaoWQPq6hsc2WVS9r5OtzjqEEplW3xU8VqW3K51iu5bSVuq0V8o7v0cT1Q4hR822O3HFeOrEu01OL5Lq"
    "zCWptWx55kDqJ4PMcHaPw+jdnfvZ9tyj6HO/7dweg6lOcZtHUnDbRJ08q5Mze2ycRt3qAbOtT18+hi66nXgXghp0gZ1QzfYX"
    "CKD/UAk1nNVjlfP0qxdYGJfoTP90nHfSSpDnMbowGFw4FxlNX+OQpzN69NhD3+OcwrpMFH2VPU7Yf2GKpu9wS6FVmD320tfZ"
    "6HQVc9Ma+v7OF+KAQHn6l5hEOVn8NNMq+u4SC7U85dUNyEqneiZNK+h7Sy/kDSsap9JX+87krB4Lv83ROp2+XrTZWTx6bKDv"
    "y1IE3a6dMugrbnOSWpDnLvquyLCiuGa3LF59soIzePQ6xPM4rmiu+hrdxCEXqju+R+8zPI8Tiuq6fbPpy8Y7fA9Gw3iexyLc"
    "qaI37+1O7+LYHl9I43mcWpTX7s4zafnIkT0O4L1fRT3pLjiTd/VId0fVaJqex7uT8UWdgaD7vOsf9HZMjxV3824j7/2iz0Kr"
    "JF4WEh1y9mTjq7ybyHmrODJRN46XieyRjufxTf5rldmjeLLhc4GXDRLtYBNRPRfz858UWFw5qXCQn5PYQEfy2EDwHFyuU3x5"
    "KbGSn5eccY7TRRmawc/7weLdeeYzfuWB7PNzDI1Vf+Dnm6wu7tUvIfwKJbk3yBHiDfS6zc+15ZPiz1OLeMHfdpfdP5TlBb9I"
    "JPkle8hWpR8F2UoLte+HsvcNQYbP2UmQKNMUwQ8lOdDAfjVW3yTILFlnPyt/e6YK8pYVbqe7xhuH3xNk9UGYPeXvqSPCP3Ns"
    "N3v02Oa0MJ8xjewrh+avLMIs7rK797vGWuFvEFlhfwv6O14XZjJnflV7ymCp8feFOUy2yzUaFaKE+ST3/2c3f3Dz4ARR9rb7"
    "2GmB2P2mKK9Jo+yi1HEL+UOUtfTBBrul4mpRdkni+8U/bS34hDhfu+x7XWX3OAmVo8sWa42nzylxnm69brBzPKdlibOdMqnY"
    "ih3TGxfF+clb5gjTGhoeFOecZEQWS2Wo3CiJN4Scfs7gELi9Hi+R+7y9fYp67lqjOekSGbkT5jidphJVtsdzMj7zLbo8lB5w"
    "VCoPOd94GRwJn2W5Urdh2dG3SDpQ3dpGpkldP299XYOj8cxWIkny3GcLu5etweRY6WvvaWFwRFr/JH07JC6iZSFaHHdG5rJH"
    "HXflX8dDMvdEYiOCCmGyrzFw+p9yV9z/osGRCdotd2MkLbq/Tdu6vgPWJMlebKfjx8hrGm2RvT0SE9nPJlX1Kr1mnZe/SlZU"
    "M4MzUGdeuvxNkrzfVwxtpuM1N9Z/Z1kM4/zkzmQfg7NQbsRlwiTj0NywQKtb5CWavjPn8H32mS+GlTI4E24vbcomCuTF7pg1"
    "PLiuis4ic63nQiO2X7EonfHh+hecMKq/95gYogbLjeNbIr8IC3mxRZ1K9Cvv5evfpvu7Y2euPhRvUXWiPz6uanBSAhclEyux"
    "pKQkJKSkpNy38nvJC59z6i0m3DsvTyGFTub6ni4QxM2j64qkwrSYtq5fWYOLYAqceqZwLCYsfMXVdg6uMXTjXdtKzNjxoYtu"
    "q2Vs+tHWNNtITN/1eUfX3sTa2DB04dkcPQ4tF6NGNDMZkEeUDhwyb3+y9Q7vHlkyvK0n+hNQPWhg+PpTan44824ejZ4eFlQF"
    "nbEoWbtdyMiJs1dtOXDy6rX8ung+t65dO3lw94als8aFdg982o52O/gHVCZ/3g=="
)


def alpha() -> jax.Array:
    """The arrow's alpha mask.

    Returns:
      uint8[312, 329], 0 transparent .. 255 opaque.
    """
    raw = zlib.decompress(base64.b64decode(_DATA))
    return jnp.frombuffer(raw, dtype=jnp.uint8).reshape(SHAPE)
