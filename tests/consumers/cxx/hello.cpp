// hello.cpp - libvae from C++17: RAII handles, exceptions that carry the
// library's messages, a short training run, a round trip through memory.
#include <vae.h>

#include <cstdio>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// The vae.h name of a status, or its number for one this program does not
// know (a newer library).
std::string status_name(int32_t s)
{
    static const char *const names[] = {
        "VAE_OK", "VAE_ERR_INVALID_ARG", "VAE_ERR_SHAPE", "VAE_ERR_NOMEM",
        "VAE_ERR_IO", "VAE_ERR_FORMAT", "VAE_ERR_NONFINITE", "VAE_ERR_GRAPH",
        "VAE_ERR_VERSION", "VAE_ERR_RANGE", "VAE_ERR_UNSUPPORTED",
        "VAE_ERR_BUSY"};
    if (s <= 0 && -s < static_cast<int32_t>(sizeof names / sizeof *names))
        return names[-s];
    return "status " + std::to_string(s);
}

// "call: message [VAE_ERR_...]", the line the Python, Rust and Go bindings
// print for the same failure. The library starts some messages with the
// function's own name ("reconstruct: batch 0 ..."), which is not repeated.
std::string error_line(int32_t s, const std::string &call, std::string message)
{
    const size_t colon = message.find(": ");
    if (colon != std::string::npos && colon > 0 && colon < call.size() &&
        message.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") ==
            colon &&
        call.compare(call.size() - colon - 1, colon + 1,
                     "_" + message.substr(0, colon)) == 0)
        message.erase(0, colon + 2);
    return call + ": " + message + " [" + status_name(s) + "]";
}

struct vae_error : std::runtime_error {
    int32_t status;
    vae_error(int32_t s, const char *call, const char *detail)
        : std::runtime_error(error_line(s, call, detail)), status(s) {}
};

// Negative results are statuses; detail is the library's message for them.
int64_t check(int64_t result, const char *call, const char *detail)
{
    if (result < 0)
        throw vae_error(static_cast<int32_t>(result), call, detail);
    return result;
}

// Runs a call that must fail with status want, and prints its error.
template <typename Call> void expect_error(int32_t want, Call call)
{
    try {
        call();
    } catch (const vae_error &e) {
        if (e.status != want)
            throw;
        std::printf("expected error: %s\n", e.what());
        return;
    }
    throw std::runtime_error("a mistake went unnoticed");
}

// *_free(NULL) is a no-op, so the deleters need no test.
struct graph_free { void operator()(vae_graph *g) const { vae_graph_free(g); } };
struct model_free { void operator()(vae_model *m) const { vae_model_free(m); } };
struct adam_free { void operator()(vae_adam *o) const { vae_adam_free(o); } };
using graph_ptr = std::unique_ptr<vae_graph, graph_free>;
using model_ptr = std::unique_ptr<vae_model, model_free>;
using adam_ptr = std::unique_ptr<vae_adam, adam_free>;

constexpr int64_t DATA = 8, HIDDEN = 16, LATENT = 2, BATCH = 16;

// input [in] -> dense HIDDEN -> relu -> dense out. Builder errors are
// sticky, so one status check at the end covers every call.
graph_ptr mlp(int64_t in, int64_t out)
{
    vae_graph *raw = nullptr;
    check(vae_graph_new(&raw), "vae_graph_new", "out of memory");
    graph_ptr g(raw);
    int32_t h = vae_graph_input(g.get(), &in, 1);
    h = vae_graph_relu(g.get(), vae_graph_dense(g.get(), h, HIDDEN));
    vae_graph_set_output(g.get(), vae_graph_dense(g.get(), h, out));
    check(vae_graph_status(g.get()), "graph", vae_graph_last_error(g.get()));
    return g;
}

model_ptr make_model(uint64_t seed)
{
    graph_ptr enc = mlp(DATA, HIDDEN), dec = mlp(LATENT, DATA);
    char err[256] = "";
    vae_model *m = nullptr;
    check(vae_model_new(enc.get(), dec.get(), LATENT, VAE_LIKELIHOOD_BERNOULLI,
                        seed, &m, err, sizeof err),
          "vae_model_new", err);
    return model_ptr(m);  // the model keeps its own copy of the graphs
}

// The ELBO under a fixed stream of z draws, so two calls differ only by the
// parameters.
double eval_elbo(vae_model *m, const std::vector<float> &x)
{
    double elbo = 0.0;
    check(vae_model_set_seed(m, 99), "vae_model_set_seed",
          vae_model_last_error(m));
    check(vae_model_elbo(m, x.data(), BATCH, &elbo, nullptr, nullptr),
          "vae_model_elbo", vae_model_last_error(m));
    return elbo;
}

std::vector<float> params(vae_model *m)
{
    const float *p = vae_model_params(m);
    return std::vector<float>(p, p + vae_model_num_params(m));
}

void run()
{
    std::printf("libvae %s\n", vae_version_string());
    model_ptr m = make_model(7);
    char err[256] = "";
    vae_adam *raw_opt = nullptr;
    check(vae_adam_new(m.get(), 1e-2, &raw_opt, err, sizeof err),
          "vae_adam_new", err);
    adam_ptr opt(raw_opt);

    // A binary pattern and its complement, row after row.
    std::vector<float> x(BATCH * DATA);
    const size_t row = DATA;
    for (size_t i = 0; i < x.size(); i++)
        x[i] = (i % row % 3 == 0) != (i / row % 2 == 1) ? 1.0f : 0.0f;

    const double before = eval_elbo(m.get(), x);
    for (int step = 0; step < 100; step++)
        check(vae_model_train_step(m.get(), opt.get(), x.data(), BATCH,
                                   nullptr, nullptr, nullptr),
              "vae_model_train_step", vae_model_last_error(m.get()));
    const double after = eval_elbo(m.get(), x);
    std::printf("100 Adam steps: ELBO %.3f -> %.3f nats\n", before, after);
    if (!(after > before + 1.0))
        throw std::runtime_error("training did not improve the ELBO");

    size_t size = 0, written = 0;
    check(vae_model_save_size(m.get(), opt.get(), &size), "vae_model_save_size",
          vae_model_last_error(m.get()));
    std::vector<unsigned char> file(size);
    check(vae_model_save_to_buffer(m.get(), opt.get(), file.data(), size,
                                   &written),
          "vae_model_save_to_buffer", vae_model_last_error(m.get()));
    vae_model *raw_copy = nullptr;
    check(vae_model_load_from_buffer(file.data(), written, &raw_copy, nullptr,
                                     err, sizeof err),
          "vae_model_load_from_buffer", err);
    model_ptr copy(raw_copy);
    if (params(copy.get()) != params(m.get()))
        throw std::runtime_error("parameters changed in a save/load round trip");
    std::printf("saved %zu bytes and loaded them back: same parameters\n",
                written);

    // Errors come back as exceptions with the library's own message, as
    // docs/ffi.md's table shows them: NaN in the data, a file that is not
    // a model.
    std::vector<float> nan_data(2 * DATA, 0.0f);
    nan_data[3] = std::numeric_limits<float>::quiet_NaN();
    expect_error(VAE_ERR_NONFINITE, [&] {
        double elbo = 0.0;
        check(vae_model_elbo(m.get(), nan_data.data(), 2, &elbo, nullptr,
                             nullptr),
              "vae_model_elbo", vae_model_last_error(m.get()));
    });
    std::FILE *bad = std::fopen("bad.vae", "w");
    if (!bad)
        throw std::runtime_error("cannot write bad.vae");
    for (int i = 0; i < 4; i++)
        std::fputs("not a libvae model\n", bad);
    std::fclose(bad);
    expect_error(VAE_ERR_FORMAT, [&] {
        vae_model *loaded = nullptr;
        check(vae_model_load("bad.vae", &loaded, nullptr, err, sizeof err),
              "vae_model_load", err);
        vae_model_free(loaded);
    });
    std::remove("bad.vae");
}

}  // namespace

int main()
{
    try {
        run();
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "hello: %s\n", e.what());
        return 1;
    }
}
