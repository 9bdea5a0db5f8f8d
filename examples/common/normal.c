/* normal.c - inverse of the standard normal CDF by bisection on erfc.
 * Bisection is slow next to a rational approximation, but it is exact to the
 * precision of erfc with no table of coefficients to get wrong, and the
 * manifold picture needs only a few hundred values. */
#include "normal.h"

#include <math.h>

#define SQRT_HALF 0.70710678118654752440

/* Phi(z) for z <= 0 through erfc, which keeps its relative accuracy in the
 * lower tail where 1 - something would cancel. */
static double lower_cdf(double z)
{
    return 0.5 * erfc(-z * SQRT_HALF);
}

double normal_quantile(double p)
{
    double lo = -40.0, hi = 0.0; /* Phi(-40) underflows to 0 in double */

    if (!(p > 0.0 && p < 1.0))
        return NAN;
    /* Symmetry: the upper half is the negated lower half, and 1 - p is
     * exact for p >= 0.5. */
    if (p > 0.5)
        return -normal_quantile(1.0 - p);
    /* 200 halvings of the width 40 reach below any double spacing that
     * matters; the loop stops earlier once lo and hi are neighbours. */
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (mid == lo || mid == hi)
            break;
        if (lower_cdf(mid) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}
