"""glibc's ``pow(x, 2.0)``, operation for operation, as vector code.

gymnasium squares numpy float64 scalars with ``x ** 2``, which numpy evaluates with the C
library's ``pow(x, 2.0)``; glibc's ``pow`` is not correctly rounded, so ``x * x`` differs
from it about once in a thousand.  :func:`envs_native._libm.square_fast` proves, lane by
lane, when ``x * x`` is what ``pow`` returns (97% of squares); this module instead does
what glibc does, so that nearly every lane is answered without calling the C library.

It mirrors ``sysdeps/ieee754/dbl-64/e_pow.c`` of glibc 2.36 (Szabolcs Nagy's, from ARM's
optimized-routines) for ``y = 2``: ``log_inline`` (``x = 2**k z``, a 128-entry table
``__pow_log_data.tab`` of ``1/c, log c`` and its tail, a degree-8 polynomial, the result as
``hi + lo``), ``y * log x`` as ``ehi + elo``, then ``exp_inline`` (``2**(j/128)`` from the
128-entry ``__exp_data.tab``, a degree-5 polynomial) and, for ``512 <= |y log x| < 1024``,
``specialcase``.  On x86-64 glibc picks at load time (an ifunc,
``sysdeps/x86_64/fpu/multiarch/e_pow.c``) the build ``__ieee754_pow_fma`` compiled with
``-mfma -mavx2``, which takes the source's ``__FP_FAST_FMA`` branches (``r = fma(z, invc,
-1)``, ``lo3 = fma(ar, r, -ar2)``, ``elo = y * lo + fma(y, hi, -ehi)``) and in which GCC
contracted further ``a * b + c``.  Which ones was read off the machine code of Debian's
glibc 2.36 (``libm.so.6``: ``pow`` calls ``__ieee754_pow`` through an ifunc whose resolver
returns the FMA build on CPUs with FMA and AVX2; ``objdump -d`` of it): each ``fma`` below is
one ``vfmadd``/``vfmsub`` there.  Besides those of the source, fused are ``t1 = fma(kd,
ln2hi, logc)``, ``lo1 = fma(kd, ln2lo, logctail)``, the log polynomial (Horner steps
``fma(r, A[2j], A[2j-1])`` and ``fma(ar2, ., .)``, and ``lo = fma(ar3, q, lo1 + lo2 + lo3 +
lo4)``), ``elo = fma(y, lo, fma(y, hi, -ehi))``, ``kd = fma(ehi, InvLn2N, Shift)`` (``z``
is never rounded on its own), ``r = fma(kd, NegLn2loN, fma(kd, NegLn2hiN, ehi))``,
``tmp = fma(fma(r, C5, C4), r2 * r2, fma(fma(r, C3, C2), r2, tail + r))``, the result
``fma(scale, tmp, scale)`` and its overflow-side ``specialcase``; not fused is the
underflow side of ``specialcase`` (``scale + scale * tmp``, then ``* 2**-1022``).  The
tables are glibc's, checked equal to the bytes in that ``libm.so.6``.  (Debian's build
orders ``__exp_data``'s fields differently from 2.36's ``math_config.h``; only the values
matter here.)

Negative ``x`` is squared as ``|x|`` (glibc clears the sign once ``y`` is found even), and
``x = +-1`` takes exp_inline's ``|y log x| < 2**-54`` exit (``1 + ehi``).  Flagged (``ok``
False, the caller calls the C library): subnormal, infinite and NaN ``x``; squares that are
subnormal or zero (glibc's careful rounding into the subnormal range) or overflow
(``|x| >= 2**512``); zero gives ``+0`` (glibc's ``x * x``) with ``ok``.  So ``ok`` holds for
every normal ``x`` with ``2**-511 <= |x| < 2**512``.

Two operations differ from the machine code without changing a bit: ``(double) k`` is
formed exactly by adding ``k`` to the bits of 1.5 * 2**52 (AVX2 has no int64 conversion),
and lanes take every path and select (``specialcase``'s rescaling is a factor that is 1
elsewhere, and lanes not computed work on ``x = 1``, so that none computes with subnormals,
which cost a microcode assist each).

The result is right only if the C library is that code: :func:`matches_libm_pow` compares
with it on arguments whose squares lie next to rounding midpoints, where builds and
implementations differ.  ``tests/test_glibc_pow.py`` compares with numpy's ``x ** 2``
over millions of arguments.
"""

from __future__ import annotations

import functools

import numpy as np

from ._jit import inline, jit
from ._libm import bits, fma, from_bits, libm_pow2

# glibc's __pow_log_data.tab (e_pow_log_data.c): rows (invc, logc, logctail), the unused
# pad column left out.
_LOG_TABLE = np.array([[float.fromhex(h) for h in row] for row in (
    ("0x1.6a00000000000p+0", "-0x1.62c82f2b9c800p-2", "0x1.ab42428375680p-48"),
    ("0x1.6800000000000p+0", "-0x1.5d1bdbf580800p-2", "-0x1.ca508d8e0f720p-46"),
    ("0x1.6600000000000p+0", "-0x1.5767717455800p-2", "-0x1.362a4d5b6506dp-45"),
    ("0x1.6400000000000p+0", "-0x1.51aad872df800p-2", "-0x1.684e49eb067d5p-49"),
    ("0x1.6200000000000p+0", "-0x1.4be5f95777800p-2", "-0x1.41b6993293ee0p-47"),
    ("0x1.6000000000000p+0", "-0x1.4618bc21c6000p-2", "0x1.3d82f484c84ccp-46"),
    ("0x1.5e00000000000p+0", "-0x1.404308686a800p-2", "0x1.c42f3ed820b3ap-50"),
    ("0x1.5c00000000000p+0", "-0x1.3a64c55694800p-2", "0x1.0b1c686519460p-45"),
    ("0x1.5a00000000000p+0", "-0x1.347dd9a988000p-2", "0x1.5594dd4c58092p-45"),
    ("0x1.5800000000000p+0", "-0x1.2e8e2bae12000p-2", "0x1.67b1e99b72bd8p-45"),
    ("0x1.5600000000000p+0", "-0x1.2895a13de8800p-2", "0x1.5ca14b6cfb03fp-46"),
    ("0x1.5600000000000p+0", "-0x1.2895a13de8800p-2", "0x1.5ca14b6cfb03fp-46"),
    ("0x1.5400000000000p+0", "-0x1.22941fbcf7800p-2", "-0x1.65a242853da76p-46"),
    ("0x1.5200000000000p+0", "-0x1.1c898c1699800p-2", "-0x1.fafbc68e75404p-46"),
    ("0x1.5000000000000p+0", "-0x1.1675cababa800p-2", "0x1.f1fc63382a8f0p-46"),
    ("0x1.4e00000000000p+0", "-0x1.1058bf9ae4800p-2", "-0x1.6a8c4fd055a66p-45"),
    ("0x1.4c00000000000p+0", "-0x1.0a324e2739000p-2", "-0x1.c6bee7ef4030ep-47"),
    ("0x1.4a00000000000p+0", "-0x1.0402594b4d000p-2", "-0x1.036b89ef42d7fp-48"),
    ("0x1.4a00000000000p+0", "-0x1.0402594b4d000p-2", "-0x1.036b89ef42d7fp-48"),
    ("0x1.4800000000000p+0", "-0x1.fb9186d5e4000p-3", "0x1.d572aab993c87p-47"),
    ("0x1.4600000000000p+0", "-0x1.ef0adcbdc6000p-3", "0x1.b26b79c86af24p-45"),
    ("0x1.4400000000000p+0", "-0x1.e27076e2af000p-3", "-0x1.72f4f543fff10p-46"),
    ("0x1.4200000000000p+0", "-0x1.d5c216b4fc000p-3", "0x1.1ba91bbca681bp-45"),
    ("0x1.4000000000000p+0", "-0x1.c8ff7c79aa000p-3", "0x1.7794f689f8434p-45"),
    ("0x1.4000000000000p+0", "-0x1.c8ff7c79aa000p-3", "0x1.7794f689f8434p-45"),
    ("0x1.3e00000000000p+0", "-0x1.bc286742d9000p-3", "0x1.94eb0318bb78fp-46"),
    ("0x1.3c00000000000p+0", "-0x1.af3c94e80c000p-3", "0x1.a4e633fcd9066p-52"),
    ("0x1.3a00000000000p+0", "-0x1.a23bc1fe2b000p-3", "-0x1.58c64dc46c1eap-45"),
    ("0x1.3a00000000000p+0", "-0x1.a23bc1fe2b000p-3", "-0x1.58c64dc46c1eap-45"),
    ("0x1.3800000000000p+0", "-0x1.9525a9cf45000p-3", "-0x1.ad1d904c1d4e3p-45"),
    ("0x1.3600000000000p+0", "-0x1.87fa06520d000p-3", "0x1.bbdbf7fdbfa09p-45"),
    ("0x1.3400000000000p+0", "-0x1.7ab890210e000p-3", "0x1.bdb9072534a58p-45"),
    ("0x1.3400000000000p+0", "-0x1.7ab890210e000p-3", "0x1.bdb9072534a58p-45"),
    ("0x1.3200000000000p+0", "-0x1.6d60fe719d000p-3", "-0x1.0e46aa3b2e266p-46"),
    ("0x1.3000000000000p+0", "-0x1.5ff3070a79000p-3", "-0x1.e9e439f105039p-46"),
    ("0x1.3000000000000p+0", "-0x1.5ff3070a79000p-3", "-0x1.e9e439f105039p-46"),
    ("0x1.2e00000000000p+0", "-0x1.526e5e3a1b000p-3", "-0x1.0de8b90075b8fp-45"),
    ("0x1.2c00000000000p+0", "-0x1.44d2b6ccb8000p-3", "0x1.70cc16135783cp-46"),
    ("0x1.2c00000000000p+0", "-0x1.44d2b6ccb8000p-3", "0x1.70cc16135783cp-46"),
    ("0x1.2a00000000000p+0", "-0x1.371fc201e9000p-3", "0x1.178864d27543ap-48"),
    ("0x1.2800000000000p+0", "-0x1.29552f81ff000p-3", "-0x1.48d301771c408p-45"),
    ("0x1.2600000000000p+0", "-0x1.1b72ad52f6000p-3", "-0x1.e80a41811a396p-45"),
    ("0x1.2600000000000p+0", "-0x1.1b72ad52f6000p-3", "-0x1.e80a41811a396p-45"),
    ("0x1.2400000000000p+0", "-0x1.0d77e7cd09000p-3", "0x1.a699688e85bf4p-47"),
    ("0x1.2400000000000p+0", "-0x1.0d77e7cd09000p-3", "0x1.a699688e85bf4p-47"),
    ("0x1.2200000000000p+0", "-0x1.fec9131dbe000p-4", "-0x1.575545ca333f2p-45"),
    ("0x1.2000000000000p+0", "-0x1.e27076e2b0000p-4", "0x1.a342c2af0003cp-45"),
    ("0x1.2000000000000p+0", "-0x1.e27076e2b0000p-4", "0x1.a342c2af0003cp-45"),
    ("0x1.1e00000000000p+0", "-0x1.c5e548f5bc000p-4", "-0x1.d0c57585fbe06p-46"),
    ("0x1.1c00000000000p+0", "-0x1.a926d3a4ae000p-4", "0x1.53935e85baac8p-45"),
    ("0x1.1c00000000000p+0", "-0x1.a926d3a4ae000p-4", "0x1.53935e85baac8p-45"),
    ("0x1.1a00000000000p+0", "-0x1.8c345d631a000p-4", "0x1.37c294d2f5668p-46"),
    ("0x1.1a00000000000p+0", "-0x1.8c345d631a000p-4", "0x1.37c294d2f5668p-46"),
    ("0x1.1800000000000p+0", "-0x1.6f0d28ae56000p-4", "-0x1.69737c93373dap-45"),
    ("0x1.1600000000000p+0", "-0x1.51b073f062000p-4", "0x1.f025b61c65e57p-46"),
    ("0x1.1600000000000p+0", "-0x1.51b073f062000p-4", "0x1.f025b61c65e57p-46"),
    ("0x1.1400000000000p+0", "-0x1.341d7961be000p-4", "0x1.c5edaccf913dfp-45"),
    ("0x1.1400000000000p+0", "-0x1.341d7961be000p-4", "0x1.c5edaccf913dfp-45"),
    ("0x1.1200000000000p+0", "-0x1.16536eea38000p-4", "0x1.47c5e768fa309p-46"),
    ("0x1.1000000000000p+0", "-0x1.f0a30c0118000p-5", "0x1.d599e83368e91p-45"),
    ("0x1.1000000000000p+0", "-0x1.f0a30c0118000p-5", "0x1.d599e83368e91p-45"),
    ("0x1.0e00000000000p+0", "-0x1.b42dd71198000p-5", "0x1.c827ae5d6704cp-46"),
    ("0x1.0e00000000000p+0", "-0x1.b42dd71198000p-5", "0x1.c827ae5d6704cp-46"),
    ("0x1.0c00000000000p+0", "-0x1.77458f632c000p-5", "-0x1.cfc4634f2a1eep-45"),
    ("0x1.0c00000000000p+0", "-0x1.77458f632c000p-5", "-0x1.cfc4634f2a1eep-45"),
    ("0x1.0a00000000000p+0", "-0x1.39e87b9fec000p-5", "0x1.502b7f526feaap-48"),
    ("0x1.0a00000000000p+0", "-0x1.39e87b9fec000p-5", "0x1.502b7f526feaap-48"),
    ("0x1.0800000000000p+0", "-0x1.f829b0e780000p-6", "-0x1.980267c7e09e4p-45"),
    ("0x1.0800000000000p+0", "-0x1.f829b0e780000p-6", "-0x1.980267c7e09e4p-45"),
    ("0x1.0600000000000p+0", "-0x1.7b91b07d58000p-6", "-0x1.88d5493faa639p-45"),
    ("0x1.0400000000000p+0", "-0x1.fc0a8b0fc0000p-7", "-0x1.f1e7cf6d3a69cp-50"),
    ("0x1.0400000000000p+0", "-0x1.fc0a8b0fc0000p-7", "-0x1.f1e7cf6d3a69cp-50"),
    ("0x1.0200000000000p+0", "-0x1.fe02a6b100000p-8", "-0x1.9e23f0dda40e4p-46"),
    ("0x1.0200000000000p+0", "-0x1.fe02a6b100000p-8", "-0x1.9e23f0dda40e4p-46"),
    ("0x1.0000000000000p+0", "0x0.0000000000000p+0", "0x0.0000000000000p+0"),
    ("0x1.0000000000000p+0", "0x0.0000000000000p+0", "0x0.0000000000000p+0"),
    ("0x1.fc00000000000p-1", "0x1.0101575890000p-7", "-0x1.0c76b999d2be8p-46"),
    ("0x1.f800000000000p-1", "0x1.0205658938000p-6", "-0x1.3dc5b06e2f7d2p-45"),
    ("0x1.f400000000000p-1", "0x1.8492528c90000p-6", "-0x1.aa0ba325a0c34p-45"),
    ("0x1.f000000000000p-1", "0x1.0415d89e74000p-5", "0x1.111c05cf1d753p-47"),
    ("0x1.ec00000000000p-1", "0x1.466aed42e0000p-5", "-0x1.c167375bdfd28p-45"),
    ("0x1.e800000000000p-1", "0x1.894aa149fc000p-5", "-0x1.97995d05a267dp-46"),
    ("0x1.e400000000000p-1", "0x1.ccb73cdddc000p-5", "-0x1.a68f247d82807p-46"),
    ("0x1.e200000000000p-1", "0x1.eea31c006c000p-5", "-0x1.e113e4fc93b7bp-47"),
    ("0x1.de00000000000p-1", "0x1.1973bd1466000p-4", "-0x1.5325d560d9e9bp-45"),
    ("0x1.da00000000000p-1", "0x1.3bdf5a7d1e000p-4", "0x1.cc85ea5db4ed7p-45"),
    ("0x1.d600000000000p-1", "0x1.5e95a4d97a000p-4", "-0x1.c69063c5d1d1ep-45"),
    ("0x1.d400000000000p-1", "0x1.700d30aeac000p-4", "0x1.c1e8da99ded32p-49"),
    ("0x1.d000000000000p-1", "0x1.9335e5d594000p-4", "0x1.3115c3abd47dap-45"),
    ("0x1.cc00000000000p-1", "0x1.b6ac88dad6000p-4", "-0x1.390802bf768e5p-46"),
    ("0x1.ca00000000000p-1", "0x1.c885801bc4000p-4", "0x1.646d1c65aacd3p-45"),
    ("0x1.c600000000000p-1", "0x1.ec739830a2000p-4", "-0x1.dc068afe645e0p-45"),
    ("0x1.c400000000000p-1", "0x1.fe89139dbe000p-4", "-0x1.534d64fa10afdp-45"),
    ("0x1.c000000000000p-1", "0x1.1178e8227e000p-3", "0x1.1ef78ce2d07f2p-45"),
    ("0x1.be00000000000p-1", "0x1.1aa2b7e23f000p-3", "0x1.ca78e44389934p-45"),
    ("0x1.ba00000000000p-1", "0x1.2d1610c868000p-3", "0x1.39d6ccb81b4a1p-47"),
    ("0x1.b800000000000p-1", "0x1.365fcb0159000p-3", "0x1.62fa8234b7289p-51"),
    ("0x1.b400000000000p-1", "0x1.4913d8333b000p-3", "0x1.5837954fdb678p-45"),
    ("0x1.b200000000000p-1", "0x1.527e5e4a1b000p-3", "0x1.633e8e5697dc7p-45"),
    ("0x1.ae00000000000p-1", "0x1.6574ebe8c1000p-3", "0x1.9cf8b2c3c2e78p-46"),
    ("0x1.ac00000000000p-1", "0x1.6f0128b757000p-3", "-0x1.5118de59c21e1p-45"),
    ("0x1.aa00000000000p-1", "0x1.7898d85445000p-3", "-0x1.c661070914305p-46"),
    ("0x1.a600000000000p-1", "0x1.8beafeb390000p-3", "-0x1.73d54aae92cd1p-47"),
    ("0x1.a400000000000p-1", "0x1.95a5adcf70000p-3", "0x1.7f22858a0ff6fp-47"),
    ("0x1.a000000000000p-1", "0x1.a93ed3c8ae000p-3", "-0x1.8724350562169p-45"),
    ("0x1.9e00000000000p-1", "0x1.b31d8575bd000p-3", "-0x1.c358d4eace1aap-47"),
    ("0x1.9c00000000000p-1", "0x1.bd087383be000p-3", "-0x1.d4bc4595412b6p-45"),
    ("0x1.9a00000000000p-1", "0x1.c6ffbc6f01000p-3", "-0x1.1ec72c5962bd2p-48"),
    ("0x1.9600000000000p-1", "0x1.db13db0d49000p-3", "-0x1.aff2af715b035p-45"),
    ("0x1.9400000000000p-1", "0x1.e530effe71000p-3", "0x1.212276041f430p-51"),
    ("0x1.9200000000000p-1", "0x1.ef5ade4dd0000p-3", "-0x1.a211565bb8e11p-51"),
    ("0x1.9000000000000p-1", "0x1.f991c6cb3b000p-3", "0x1.bcbecca0cdf30p-46"),
    ("0x1.8c00000000000p-1", "0x1.07138604d5800p-2", "0x1.89cdb16ed4e91p-48"),
    ("0x1.8a00000000000p-1", "0x1.0c42d67616000p-2", "0x1.7188b163ceae9p-45"),
    ("0x1.8800000000000p-1", "0x1.1178e8227e800p-2", "-0x1.c210e63a5f01cp-45"),
    ("0x1.8600000000000p-1", "0x1.16b5ccbacf800p-2", "0x1.b9acdf7a51681p-45"),
    ("0x1.8400000000000p-1", "0x1.1bf99635a6800p-2", "0x1.ca6ed5147bdb7p-45"),
    ("0x1.8200000000000p-1", "0x1.214456d0eb800p-2", "0x1.a87deba46baeap-47"),
    ("0x1.7e00000000000p-1", "0x1.2bef07cdc9000p-2", "0x1.a9cfa4a5004f4p-45"),
    ("0x1.7c00000000000p-1", "0x1.314f1e1d36000p-2", "-0x1.8e27ad3213cb8p-45"),
    ("0x1.7a00000000000p-1", "0x1.36b6776be1000p-2", "0x1.16ecdb0f177c8p-46"),
    ("0x1.7800000000000p-1", "0x1.3c25277333000p-2", "0x1.83b54b606bd5cp-46"),
    ("0x1.7600000000000p-1", "0x1.419b423d5e800p-2", "0x1.8e436ec90e09dp-47"),
    ("0x1.7400000000000p-1", "0x1.4718dc271c800p-2", "-0x1.f27ce0967d675p-45"),
    ("0x1.7200000000000p-1", "0x1.4c9e09e173000p-2", "-0x1.e20891b0ad8a4p-45"),
    ("0x1.7000000000000p-1", "0x1.522ae0738a000p-2", "0x1.ebe708164c759p-45"),
    ("0x1.6e00000000000p-1", "0x1.57bf753c8d000p-2", "0x1.fadedee5d40efp-46"),
    ("0x1.6c00000000000p-1", "0x1.5d5bddf596000p-2", "-0x1.a0b2a08a465dcp-47"),
)])
_EXP_TABLE = np.array([int(h, 16) for h in (
    "0x0", "0x3ff0000000000000",
    "0x3c9b3b4f1a88bf6e", "0x3feff63da9fb3335",
    "0xbc7160139cd8dc5d", "0x3fefec9a3e778061",
    "0xbc905e7a108766d1", "0x3fefe315e86e7f85",
    "0x3c8cd2523567f613", "0x3fefd9b0d3158574",
    "0xbc8bce8023f98efa", "0x3fefd06b29ddf6de",
    "0x3c60f74e61e6c861", "0x3fefc74518759bc8",
    "0x3c90a3e45b33d399", "0x3fefbe3ecac6f383",
    "0x3c979aa65d837b6d", "0x3fefb5586cf9890f",
    "0x3c8eb51a92fdeffc", "0x3fefac922b7247f7",
    "0x3c3ebe3d702f9cd1", "0x3fefa3ec32d3d1a2",
    "0xbc6a033489906e0b", "0x3fef9b66affed31b",
    "0xbc9556522a2fbd0e", "0x3fef9301d0125b51",
    "0xbc5080ef8c4eea55", "0x3fef8abdc06c31cc",
    "0xbc91c923b9d5f416", "0x3fef829aaea92de0",
    "0x3c80d3e3e95c55af", "0x3fef7a98c8a58e51",
    "0xbc801b15eaa59348", "0x3fef72b83c7d517b",
    "0xbc8f1ff055de323d", "0x3fef6af9388c8dea",
    "0x3c8b898c3f1353bf", "0x3fef635beb6fcb75",
    "0xbc96d99c7611eb26", "0x3fef5be084045cd4",
    "0x3c9aecf73e3a2f60", "0x3fef54873168b9aa",
    "0xbc8fe782cb86389d", "0x3fef4d5022fcd91d",
    "0x3c8a6f4144a6c38d", "0x3fef463b88628cd6",
    "0x3c807a05b0e4047d", "0x3fef3f49917ddc96",
    "0x3c968efde3a8a894", "0x3fef387a6e756238",
    "0x3c875e18f274487d", "0x3fef31ce4fb2a63f",
    "0x3c80472b981fe7f2", "0x3fef2b4565e27cdd",
    "0xbc96b87b3f71085e", "0x3fef24dfe1f56381",
    "0x3c82f7e16d09ab31", "0x3fef1e9df51fdee1",
    "0xbc3d219b1a6fbffa", "0x3fef187fd0dad990",
    "0x3c8b3782720c0ab4", "0x3fef1285a6e4030b",
    "0x3c6e149289cecb8f", "0x3fef0cafa93e2f56",
    "0x3c834d754db0abb6", "0x3fef06fe0a31b715",
    "0x3c864201e2ac744c", "0x3fef0170fc4cd831",
    "0x3c8fdd395dd3f84a", "0x3feefc08b26416ff",
    "0xbc86a3803b8e5b04", "0x3feef6c55f929ff1",
    "0xbc924aedcc4b5068", "0x3feef1a7373aa9cb",
    "0xbc9907f81b512d8e", "0x3feeecae6d05d866",
    "0xbc71d1e83e9436d2", "0x3feee7db34e59ff7",
    "0xbc991919b3ce1b15", "0x3feee32dc313a8e5",
    "0x3c859f48a72a4c6d", "0x3feedea64c123422",
    "0xbc9312607a28698a", "0x3feeda4504ac801c",
    "0xbc58a78f4817895b", "0x3feed60a21f72e2a",
    "0xbc7c2c9b67499a1b", "0x3feed1f5d950a897",
    "0x3c4363ed60c2ac11", "0x3feece086061892d",
    "0x3c9666093b0664ef", "0x3feeca41ed1d0057",
    "0x3c6ecce1daa10379", "0x3feec6a2b5c13cd0",
    "0x3c93ff8e3f0f1230", "0x3feec32af0d7d3de",
    "0x3c7690cebb7aafb0", "0x3feebfdad5362a27",
    "0x3c931dbdeb54e077", "0x3feebcb299fddd0d",
    "0xbc8f94340071a38e", "0x3feeb9b2769d2ca7",
    "0xbc87deccdc93a349", "0x3feeb6daa2cf6642",
    "0xbc78dec6bd0f385f", "0x3feeb42b569d4f82",
    "0xbc861246ec7b5cf6", "0x3feeb1a4ca5d920f",
    "0x3c93350518fdd78e", "0x3feeaf4736b527da",
    "0x3c7b98b72f8a9b05", "0x3feead12d497c7fd",
    "0x3c9063e1e21c5409", "0x3feeab07dd485429",
    "0x3c34c7855019c6ea", "0x3feea9268a5946b7",
    "0x3c9432e62b64c035", "0x3feea76f15ad2148",
    "0xbc8ce44a6199769f", "0x3feea5e1b976dc09",
    "0xbc8c33c53bef4da8", "0x3feea47eb03a5585",
    "0xbc845378892be9ae", "0x3feea34634ccc320",
    "0xbc93cedd78565858", "0x3feea23882552225",
    "0x3c5710aa807e1964", "0x3feea155d44ca973",
    "0xbc93b3efbf5e2228", "0x3feea09e667f3bcd",
    "0xbc6a12ad8734b982", "0x3feea012750bdabf",
    "0xbc6367efb86da9ee", "0x3fee9fb23c651a2f",
    "0xbc80dc3d54e08851", "0x3fee9f7df9519484",
    "0xbc781f647e5a3ecf", "0x3fee9f75e8ec5f74",
    "0xbc86ee4ac08b7db0", "0x3fee9f9a48a58174",
    "0xbc8619321e55e68a", "0x3fee9feb564267c9",
    "0x3c909ccb5e09d4d3", "0x3feea0694fde5d3f",
    "0xbc7b32dcb94da51d", "0x3feea11473eb0187",
    "0x3c94ecfd5467c06b", "0x3feea1ed0130c132",
    "0x3c65ebe1abd66c55", "0x3feea2f336cf4e62",
    "0xbc88a1c52fb3cf42", "0x3feea427543e1a12",
    "0xbc9369b6f13b3734", "0x3feea589994cce13",
    "0xbc805e843a19ff1e", "0x3feea71a4623c7ad",
    "0xbc94d450d872576e", "0x3feea8d99b4492ed",
    "0x3c90ad675b0e8a00", "0x3feeaac7d98a6699",
    "0x3c8db72fc1f0eab4", "0x3feeace5422aa0db",
    "0xbc65b6609cc5e7ff", "0x3feeaf3216b5448c",
    "0x3c7bf68359f35f44", "0x3feeb1ae99157736",
    "0xbc93091fa71e3d83", "0x3feeb45b0b91ffc6",
    "0xbc5da9b88b6c1e29", "0x3feeb737b0cdc5e5",
    "0xbc6c23f97c90b959", "0x3feeba44cbc8520f",
    "0xbc92434322f4f9aa", "0x3feebd829fde4e50",
    "0xbc85ca6cd7668e4b", "0x3feec0f170ca07ba",
    "0x3c71affc2b91ce27", "0x3feec49182a3f090",
    "0x3c6dd235e10a73bb", "0x3feec86319e32323",
    "0xbc87c50422622263", "0x3feecc667b5de565",
    "0x3c8b1c86e3e231d5", "0x3feed09bec4a2d33",
    "0xbc91bbd1d3bcbb15", "0x3feed503b23e255d",
    "0x3c90cc319cee31d2", "0x3feed99e1330b358",
    "0x3c8469846e735ab3", "0x3feede6b5579fdbf",
    "0xbc82dfcd978e9db4", "0x3feee36bbfd3f37a",
    "0x3c8c1a7792cb3387", "0x3feee89f995ad3ad",
    "0xbc907b8f4ad1d9fa", "0x3feeee07298db666",
    "0xbc55c3d956dcaeba", "0x3feef3a2b84f15fb",
    "0xbc90a40e3da6f640", "0x3feef9728de5593a",
    "0xbc68d6f438ad9334", "0x3feeff76f2fb5e47",
    "0xbc91eee26b588a35", "0x3fef05b030a1064a",
    "0x3c74ffd70a5fddcd", "0x3fef0c1e904bc1d2",
    "0xbc91bdfbfa9298ac", "0x3fef12c25bd71e09",
    "0x3c736eae30af0cb3", "0x3fef199bdd85529c",
    "0x3c8ee3325c9ffd94", "0x3fef20ab5fffd07a",
    "0x3c84e08fd10959ac", "0x3fef27f12e57d14b",
    "0x3c63cdaf384e1a67", "0x3fef2f6d9406e7b5",
    "0x3c676b2c6c921968", "0x3fef3720dcef9069",
    "0xbc808a1883ccb5d2", "0x3fef3f0b555dc3fa",
    "0xbc8fad5d3ffffa6f", "0x3fef472d4a07897c",
    "0xbc900dae3875a949", "0x3fef4f87080d89f2",
    "0x3c74a385a63d07a7", "0x3fef5818dcfba487",
    "0xbc82919e2040220f", "0x3fef60e316c98398",
    "0x3c8e5a50d5c192ac", "0x3fef69e603db3285",
    "0x3c843a59ac016b4b", "0x3fef7321f301b460",
    "0xbc82d52107b43e1f", "0x3fef7c97337b9b5f",
    "0xbc892ab93b470dc9", "0x3fef864614f5a129",
    "0x3c74b604603a88d3", "0x3fef902ee78b3ff6",
    "0x3c83c5ec519d7271", "0x3fef9a51fbc74c83",
    "0xbc8ff7128fd391f0", "0x3fefa4afa2a490da",
    "0xbc8dae98e223747d", "0x3fefaf482d8e67f1",
    "0x3c8ec3bc41aa2008", "0x3fefba1bee615a27",
    "0x3c842b94c3a9eb32", "0x3fefc52b376bba97",
    "0x3c8a64a931d185ee", "0x3fefd0765b6e4540",
    "0xbc8e37bae43be3ed", "0x3fefdbfdad9cbe14",
    "0x3c77893b4d91cd9d", "0x3fefe7c1819e90d8",
    "0x3c5305c14160cc89", "0x3feff3c22b8f71f1",
)], dtype=np.uint64).view(np.int64).reshape(128, 2)

_INVC = np.ascontiguousarray(_LOG_TABLE[:, 0])
_LOGC = np.ascontiguousarray(_LOG_TABLE[:, 1])
_LOGCTAIL = np.ascontiguousarray(_LOG_TABLE[:, 2])
# tab[2j] is the bits of the tail of 2**(j/128), tab[2j+1] the bits of its head minus
# (j << 52) / 128.
_EXP_TAIL = np.ascontiguousarray(_EXP_TABLE[:, 0]).view(np.float64)
_EXP_SBITS = np.ascontiguousarray(_EXP_TABLE[:, 1])

# __pow_log_data (e_pow_log_data.c): ln 2 in two parts, poly (A[0] = -1/2; the others are
# scaled as the evaluation needs).
_LN2HI = float.fromhex("0x1.62e42fefa3800p-1")
_LN2LO = float.fromhex("0x1.ef35793c76730p-45")
_A0 = -0.5
_A1 = float.fromhex("0x1.555555555556p-2") * -2
_A2 = float.fromhex("-0x1.0000000000006p-2") * -2
_A3 = float.fromhex("0x1.999999959554ep-3") * 4
_A4 = float.fromhex("-0x1.555555529a47ap-3") * 4
_A5 = float.fromhex("0x1.2495b9b4845e9p-3") * -8
_A6 = float.fromhex("-0x1.0002b8b263fc3p-3") * -8
_OFF = 0x3FE6955500000000
# __exp_data (e_exp_data.c), N = 128.
_INVLN2N = float.fromhex("0x1.71547652b82fep0") * 128
_NEGLN2HIN = float.fromhex("-0x1.62e42fefa0000p-8")
_NEGLN2LON = float.fromhex("-0x1.cf79abc9e3b3ap-47")
_SHIFT = float.fromhex("0x1.8p52")
_C2 = float.fromhex("0x1.ffffffffffdbdp-2")
_C3 = float.fromhex("0x1.555555555543cp-3")
_C4 = float.fromhex("0x1.55555cf172b91p-5")
_C5 = float.fromhex("0x1.1111167a4d017p-7")
_Y = 2.0
_ABS_MASK = 0x7FFFFFFFFFFFFFFF
_EXPONENT_FIELD = -(1 << 52)  # 0xfff << 52 as an int64
_MIN_NORMAL = float.fromhex("0x1p-1022")
_MAX_DOUBLE = float.fromhex("0x1.fffffffffffffp+1023")
_TINY_EXP_ARG = float.fromhex("0x1p-54")  # exp_inline: top12(|x|) < top12(2**-54)
_SPECIAL_EXP_ARG = 512.0  # top12(|x|) >= top12(512): specialcase
_HUGE_EXP_ARG = 1024.0  # top12(|x|) >= top12(1024): __math_oflow/__math_uflow
_SPECIAL_DOWN = 1009 << 52
_SPECIAL_UP = 1022 << 52
_TWO_1009 = float.fromhex("0x1p1009")
_ONE_BITS = 0x3FF0000000000000
_SHIFT_BITS = 0x4338000000000000  # bits(0x1.8p52)


@inline
def _log_inline(ix: int) -> tuple[float, float]:
    """e_pow.c's ``log_inline(ix, &tail)`` for a positive normal ``x`` with bits ``ix``:
    ``(hi, lo)``, ``log x ~= hi + lo``."""
    tmp = ix - _OFF
    i = (tmp >> 45) & 127  # (tmp >> (52 - 7)) % N
    k = tmp >> 52  # arithmetic shift
    z = from_bits(ix - (tmp & _EXPONENT_FIELD))
    # (double) k, exact (|k| < 2**51) without an int64 conversion, which AVX2 lacks.
    kd = from_bits(k + _SHIFT_BITS) - _SHIFT
    invc = _INVC[i]
    logc = _LOGC[i]
    logctail = _LOGCTAIL[i]
    r = fma(z, invc, -1.0)
    t1 = fma(kd, _LN2HI, logc)
    t2 = t1 + r
    lo1 = fma(kd, _LN2LO, logctail)
    lo2 = t1 - t2 + r
    ar = _A0 * r
    ar2 = r * ar
    ar3 = r * ar2
    hi = t2 + ar2
    lo3 = fma(ar, r, -ar2)
    lo4 = t2 - hi + ar2
    q = fma(ar2, fma(ar2, fma(r, _A6, _A5), fma(r, _A4, _A3)), fma(r, _A2, _A1))
    lo = fma(ar3, q, lo1 + lo2 + lo3 + lo4)
    y = hi + lo
    return y, hi - y + lo


@inline
def glibc_square(x: float) -> tuple[float, bool]:
    """``(pow(x, 2.0), ok)``: glibc's ``pow(x, 2.0)`` where ``ok``; no branches or calls.

    ``ok`` is False for subnormal, infinite and NaN ``x`` and where the square underflows
    (``|x| < 2**-511``, zero excepted) or overflows (``|x| >= 2**512``): there the caller
    must call the C library."""
    ax = abs(x)
    normal = (ax >= _MIN_NORMAL) & (ax <= _MAX_DOUBLE)
    # Lanes not computed (flagged below) work on 1.0: no subnormal operands, which are slow.
    ix = bits(ax) if normal else _ONE_BITS
    hi, lo = _log_inline(ix)
    ehi = _Y * hi
    elo = fma(_Y, lo, fma(_Y, hi, -ehi))
    # exp_inline(ehi, elo, 0)
    kd = fma(ehi, _INVLN2N, _SHIFT)
    ki = bits(kd)
    kd = kd - _SHIFT
    r = fma(kd, _NEGLN2LON, fma(kd, _NEGLN2HIN, ehi))
    r = elo + r
    idx = ki & 127
    top = ki << 45
    tail = _EXP_TAIL[idx]
    sbits = _EXP_SBITS[idx] + top
    r2 = r * r
    tmp = fma(fma(r, _C5, _C4), r2 * r2, fma(fma(r, _C3, _C2), r2, tail + r))
    # specialcase(tmp, sbits, ki) where 512 <= |ehi| < 1024: the scale is moved into range
    # by 2**-1009 where k > 0, by 2**1022 where k < 0 (and each lane uses only its own scale,
    # so that none computes with subnormals).
    aehi = abs(ehi)
    special = aehi >= _SPECIAL_EXP_ARG
    k_positive = (ki & 0x80000000) == 0
    shifted = (sbits - _SPECIAL_DOWN) if k_positive else (sbits + _SPECIAL_UP)
    scale = from_bits(shifted if special else sbits)
    fused = fma(scale, tmp, scale)  # the result; with k > 0, 2**-1009 times it
    # k < 0: unfused, 2**1022 times the result; |y| < 1 is glibc's rounding into the
    # subnormal range.
    y = scale + scale * tmp
    up = special & k_positive
    down = special & (not k_positive)
    # Scaled back by a factor that is 1 outside specialcase (no subnormal products).
    factor = _TWO_1009 if up else 1.0
    factor = _MIN_NORMAL if down else factor
    value = factor * (y if down else fused)
    value = 1.0 + ehi if aehi < _TINY_EXP_ARG else value
    value = x * x if x == 0.0 else value
    ok = normal & (aehi < _HUGE_EXP_ARG) & (value <= _MAX_DOUBLE)
    ok = ok & (not (down & (abs(y) < 1.0)))
    return value, ok | (x == 0.0)


@jit
def glibc_square_py(x: float) -> tuple[float, bool]:
    """:func:`glibc_square` callable from Python (for tests)."""
    return glibc_square(x)


@jit
def _mismatches(x: np.ndarray) -> tuple[int, int]:
    """``(how many of x get other bits from glibc_square than from the C library's pow where
    ok, how many are not ok)``."""
    bad = 0
    flagged = 0
    for i in range(x.shape[0]):
        v, ok = glibc_square(x[i])
        bad += ok & (bits(v) != bits(libm_pow2(x[i])))
        flagged += not ok
    return bad, flagged


def near_midpoint_mantissas(d: np.ndarray, wide: np.ndarray) -> np.ndarray:
    """Integers ``m`` in [2**52, 2**53) whose squares lie ``d * 2**-53`` (where ``wide``) or
    ``d * 2**-52`` ULP (elsewhere) of the rounded square above a rounding midpoint:
    ``m**2 = 2**52 + d`` modulo 2**53 with ``m**2 >= 2**105`` where ``wide``, ``m**2 = 2**51 +
    d`` modulo 2**52 with ``m**2 < 2**105`` elsewhere; so does ``(m * 2**e)**2`` for every
    ``e`` that keeps it normal.  ``d`` must be 1 modulo 8 (odd squares are); the square roots
    modulo a power of two are lifted bit by bit (Hensel)."""
    d = np.asarray(d, dtype=np.int64)
    wide = np.asarray(wide, dtype=bool)
    if np.any(d % 8 != 1):
        raise ValueError("d must be 1 modulo 8")
    width = np.where(wide, 53, 52).astype(np.uint64)
    mask = (np.uint64(1) << width) - np.uint64(1)
    c = ((np.uint64(1) << (width - np.uint64(1))) + d.astype(np.uint64)) & mask
    root = np.ones_like(c)
    for i in range(3, 53):
        # root**2 == c modulo 2**i; fix bit i (uint64 products wrap, which keeps the low bits).
        wrong = (((root * root - c) >> np.uint64(i)) & np.uint64(1)).astype(bool) & (i < width)
        root = np.where(wrong, root + (np.uint64(1) << np.uint64(i - 1)), root)
    two52 = np.uint64(1 << 52)
    s = root & (two52 - np.uint64(1))
    # Wide: the square roots of c modulo 2**53 are +-s and +-s + 2**52; 2**52 + s and 2**53 - s
    # lie in [2**52, 2**53), and one of them is >= 2**52.5 (s < 2**52).  Narrow: modulo 2**52
    # they are +-s and +-s + 2**51 (s < 2**51); 2**52 + min(s, 2**51 - s) < 2**52.5.
    wide_m = np.where(s >= np.uint64(int(0.41422 * 2**52)), two52 + s, np.uint64(1 << 53) - s)
    half = np.uint64(1 << 51)
    t = s & (half - np.uint64(1))
    narrow_m = two52 + np.minimum(t, half - t)
    m = np.where(wide, wide_m, narrow_m)
    return m.astype(np.int64)


# Arguments next to rounding midpoints where a build of this code that differs in one place
# gives other bits (found by search over millions): rounding lo1 + lo2 + lo3 + lo4 + ar3 * q
# before adding (8), r = ehi + kd * NegLn2hiN + kd * NegLn2loN unfused (2), tmp unfused (8).
_DISCRIMINATING = np.array([float.fromhex(h) for h in (
    "0x1.1128a6a459023p-187", "0x1.c55220b571dc3p+218", "0x1.09e3e670c855bp-210",
    "0x1.04e5f3d340185p+368", "0x1.f34ea54c70eb1p+273", "0x1.f66326d93e5cfp+199",
    "0x1.ad615144b21bbp-266", "0x1.0b558caacdf19p+103",
    "0x1.11edbb1db5357p+326", "0x1.dbe8c463418c9p+123",
    "0x1.ae173ab549a6fp+104", "0x1.316dc9a8d2155p-264", "0x1.202774a8e4e2fp-360",
    "0x1.cf16c54cf638fp+221", "0x1.08187deb77e71p-422", "0x1.28f0f0755dff7p-423",
    "0x1.ae173ab549a6fp-302", "0x1.d29681200ccdfp-352",
)])


def check_arguments() -> np.ndarray:
    """The fixed arguments of :func:`matches_libm_pow`."""
    rng = np.random.default_rng(20260611)
    n = 4096
    d = rng.integers(-(2**37), 2**37, n) * 8 + 1
    m = near_midpoint_mantissas(d, rng.random(n) < 0.5).astype(np.float64)
    near = m * np.exp2(rng.integers(-560, 460, n).astype(np.float64))
    plain = np.concatenate([rng.uniform(-10.0, 10.0, 4096),
                            np.exp2(rng.uniform(-520.0, 520.0, 4096)),
                            [1.0, -1.0, 0.0, -0.0, 2.0**-511, 2.0**511, 2.0**-512]])
    return np.concatenate([_DISCRIMINATING, -_DISCRIMINATING, near, -near[:64], plain])


@functools.cache
def matches_libm_pow() -> bool:
    """Whether this process's C library computes ``pow(x, 2.0)`` as this module does, on a
    fixed set of arguments (:func:`check_arguments`): 4096 whose squares lie within 2**-12
    ULP of a rounding midpoint (where glibc's ``pow`` and the correctly rounded square part
    ways 42% of the time), 18 and their negatives found (by search over millions) to tell
    apart builds that fuse one operation fewer, and 8192 spread over the magnitudes
    :func:`glibc_square` handles.  A build that rounds ``scale * tmp`` before adding
    ``scale`` (as glibc's SSE2 build does) gives other bits for 836 of them."""
    bad, _ = _mismatches(check_arguments())
    return bool(bad == 0)
