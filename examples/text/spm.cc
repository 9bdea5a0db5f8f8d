// spm.cc - the C interface of spm.h over SentencePiece's C++ API.
#include "spm.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

struct text_spm {
    sentencepiece::SentencePieceProcessor sp;
};

namespace {

int set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

// The caller's sentences, one after another, without copying them all.
class Sentences : public sentencepiece::SentenceIterator {
  public:
    Sentences(const char *const *s, size_t n) : s_(s), n_(n)
    {
        if (n_)
            cur_ = s_[0];
    }
    bool done() const override { return i_ >= n_; }
    void Next() override
    {
        if (++i_ < n_)
            cur_ = s_[i_];
    }
    const std::string &value() const override { return cur_; }
    sentencepiece::util::Status status() const override { return {}; }

  private:
    const char *const *s_;
    size_t n_, i_ = 0;
    std::string cur_;
};

// SentencePiece reports failures as statuses, and the C++ library can
// still throw (std::bad_alloc): both become messages.
template <typename F> int guarded(char *err, size_t errlen, F f)
{
    try {
        return f();
    } catch (const std::bad_alloc &) {
        return set_err(err, errlen, "out of memory");
    } catch (const std::exception &e) {
        return set_err(err, errlen, "sentencepiece: %s", e.what());
    }
}

} // namespace

extern "C" int text_spm_train(const char *const *sentences, size_t n,
                              size_t size, text_spm **out, char *err,
                              size_t errlen)
{
    if (!out || (!sentences && n))
        return set_err(err, errlen, "text_spm_train: NULL argument");
    *out = nullptr;
    if (size < TEXT_SPM_MIN_SIZE || size > ((size_t)1 << 24))
        return set_err(err, errlen,
                       "a subword vocabulary of %zu ids: it needs %d to "
                       "2^24 (4 specials, 256 bytes, the pieces)",
                       size, TEXT_SPM_MIN_SIZE);
    return guarded(err, errlen, [&]() {
        // Ids 0..3 as vocab.h has them (libvae pads with 0). BPE gave
        // Brown fewer pieces per sentence than unigram at the same size
        // (25.0 against 27.1 at 8,000). The text is vae-text's tokens
        // already, so no normalisation: decoding must give it back. One
        // thread: the pieces then do not depend on the machine.
        // At most `size` ids, as the word vocabulary has: a small corpus
        // has fewer pieces to merge. minloglevel 2 keeps SentencePiece's
        // progress off stderr.
        std::unordered_map<std::string, std::string> kw = {
            {"model_type", "bpe"},
            {"vocab_size", std::to_string(size)},
            {"pad_id", "0"},
            {"bos_id", "1"},
            {"eos_id", "2"},
            {"unk_id", "3"},
            {"byte_fallback", "true"},
            {"unk_surface", "<unk>"},
            {"normalization_rule_name", "identity"},
            {"input_sentence_size", "0"},
            {"hard_vocab_limit", "false"},
            {"num_threads", "1"},
            {"minloglevel", "2"},
        };
        Sentences it(sentences, n);
        std::string proto;
        auto st = sentencepiece::SentencePieceTrainer::Train(kw, &it, &proto);
        if (!st.ok())
            return set_err(err, errlen, "sentencepiece training (try another "
                           "--vocab): %s", st.ToString().c_str());
        return text_spm_load(proto.data(), proto.size(), out, err, errlen);
    });
}

extern "C" int text_spm_load(const void *buf, size_t len, text_spm **out,
                             char *err, size_t errlen)
{
    if (!out || (!buf && len))
        return set_err(err, errlen, "text_spm_load: NULL argument");
    *out = nullptr;
    return guarded(err, errlen, [&]() {
        std::unique_ptr<text_spm> m(new text_spm);
        auto st = m->sp.LoadFromSerializedProto(
            std::string(static_cast<const char *>(buf), len));
        if (!st.ok())
            return set_err(err, errlen, "not a SentencePiece model (%s)",
                           st.ToString().c_str());
        // What vae-text relies on: its ids for the specials, and bytes for
        // what has no piece.
        if (m->sp.pad_id() != 0 || m->sp.bos_id() != 1 ||
            m->sp.eos_id() != 2 || m->sp.unk_id() != 3 ||
            m->sp.PieceToId("<0xFF>") == m->sp.unk_id())
            return set_err(err, errlen,
                           "a SentencePiece model without vae-text's ids "
                           "(<pad> 0, <bos> 1, <eos> 2, <unk> 3) or without "
                           "byte pieces");
        *out = m.release();
        return 0;
    });
}

extern "C" int text_spm_serialize(const text_spm *m, unsigned char **buf,
                                  size_t *len, char *err, size_t errlen)
{
    if (!m || !buf || !len)
        return set_err(err, errlen, "text_spm_serialize: NULL argument");
    *buf = nullptr;
    *len = 0;
    return guarded(err, errlen, [&]() {
        std::string proto = m->sp.serialized_model_proto();
        unsigned char *b = static_cast<unsigned char *>(
            std::malloc(proto.size() ? proto.size() : 1));
        if (!b)
            return set_err(err, errlen, "out of memory");
        std::memcpy(b, proto.data(), proto.size());
        *buf = b;
        *len = proto.size();
        return 0;
    });
}

extern "C" void text_spm_free(text_spm *m)
{
    delete m;
}

extern "C" size_t text_spm_size(const text_spm *m)
{
    return m ? static_cast<size_t>(m->sp.GetPieceSize()) : 0;
}

extern "C" int text_spm_encode(const text_spm *m, const char *text,
                               size_t len, int32_t **ids, size_t *n,
                               char *err, size_t errlen)
{
    if (!m || (!text && len) || !ids || !n)
        return set_err(err, errlen, "text_spm_encode: NULL argument");
    *ids = nullptr;
    *n = 0;
    return guarded(err, errlen, [&]() {
        std::vector<int> v;
        auto st = m->sp.Encode(std::string(text ? text : "", len), &v);
        if (!st.ok())
            return set_err(err, errlen, "sentencepiece: %s",
                           st.ToString().c_str());
        if (v.empty())
            return 0;
        int32_t *p = static_cast<int32_t *>(std::malloc(v.size() * sizeof *p));
        if (!p)
            return set_err(err, errlen, "out of memory");
        for (size_t i = 0; i < v.size(); i++)
            p[i] = v[i];
        *ids = p;
        *n = v.size();
        return 0;
    });
}

extern "C" int text_spm_decode(const text_spm *m, const int32_t *ids,
                               size_t n, char **out, char *err, size_t errlen)
{
    if (!m || (!ids && n) || !out)
        return set_err(err, errlen, "text_spm_decode: NULL argument");
    *out = nullptr;
    return guarded(err, errlen, [&]() {
        const size_t size = text_spm_size(m);
        std::vector<int> v(n);
        for (size_t i = 0; i < n; i++) {
            if (ids[i] < 0 || static_cast<size_t>(ids[i]) >= size)
                return set_err(err, errlen,
                               "id %ld at position %zu is outside the "
                               "vocabulary (0..%zu)",
                               static_cast<long>(ids[i]), i, size - 1);
            v[i] = ids[i];
        }
        std::string text;
        auto st = m->sp.Decode(v, &text);
        if (!st.ok())
            return set_err(err, errlen, "sentencepiece: %s",
                           st.ToString().c_str());
        // A byte piece may be a control byte, which no encoded text has
        // (vae-text's tokens never hold one); as a space it cannot end a
        // line of output or the C string early.
        for (char &c : text)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                c = ' ';
        char *s = static_cast<char *>(std::malloc(text.size() + 1));
        if (!s)
            return set_err(err, errlen, "out of memory");
        std::memcpy(s, text.c_str(), text.size() + 1);
        *out = s;
        return 0;
    });
}
