/* normal.h - the standard normal distribution's quantile function. */
#ifndef VAE_EXAMPLE_NORMAL_H
#define VAE_EXAMPLE_NORMAL_H

/* The z with Phi(z) = p, where Phi is the standard normal CDF; p in (0, 1).
 * Accurate to a few units in the last place of Phi's value over the whole
 * range, including the far tails. NaN for p outside (0, 1). */
double normal_quantile(double p);

#endif
