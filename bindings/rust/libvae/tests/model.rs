//! The safe wrapper against the installed library: training, save/load,
//! the buffer calls, generation, and errors carrying the library's message.

use libvae::{Adam, Decode, ErrorKind, Graph, KlAnneal, Likelihood, Model, Node, VaeError};
use std::path::PathBuf;

const DATA: usize = 8;
const LATENT: usize = 2;
const BATCH: usize = 16;

fn mlp(inputs: usize, outputs: usize) -> Graph {
    let mut g = Graph::new().unwrap();
    let x = g.input(&[inputs as i64]).unwrap();
    let h = g.dense(x, 16).unwrap();
    let h = g.relu(h).unwrap();
    let out = g.dense(h, outputs as i64).unwrap();
    g.set_output(out).unwrap();
    g
}

fn tiny_model(seed: u64) -> Model {
    Model::new(
        &mlp(DATA, 16),
        &mlp(LATENT, DATA),
        LATENT as i64,
        Likelihood::Bernoulli,
        seed,
    )
    .unwrap()
}

/// Two complementary binary patterns, alternating.
fn data() -> Vec<f32> {
    (0..BATCH * DATA)
        .map(|i| (((i / DATA) % 2 == 0) == (i % DATA < DATA / 2)) as u8 as f32)
        .collect()
}

/// A path in the temporary directory, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> TempPath {
        TempPath(std::env::temp_dir().join(format!("libvae-rs-{}-{}", std::process::id(), name)))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn assert_error(err: &VaeError, kind: ErrorKind, needle: &str) {
    assert_eq!(err.kind(), kind, "{}", err);
    assert!(err.status() < 0);
    assert!(
        err.message().contains(needle),
        "message {:?} lacks {:?}",
        err.message(),
        needle
    );
}

#[test]
fn training_improves_the_elbo() {
    let mut model = tiny_model(1);
    let mut opt = Adam::new(&model, 1e-2).unwrap();
    let x = data();
    let initial = model.params().to_vec();

    model.set_seed(5).unwrap();
    let before = model.elbo(&x).unwrap();
    for _ in 0..100 {
        let e = model.train_step(&mut opt, &x).unwrap();
        assert!(e.elbo.is_finite() && e.kl >= 0.0, "{:?}", e);
        assert!(
            (e.elbo - (e.recon - e.kl)).abs() < 1e-6 * e.elbo.abs().max(1.0),
            "{:?}",
            e
        );
    }
    model.set_seed(5).unwrap();
    let after = model.elbo(&x).unwrap();

    assert_eq!(opt.steps(), 100);
    assert!(model.params().iter().all(|p| p.is_finite()));
    assert_ne!(model.params(), &initial[..]);
    // Eight independent fair bits cost 8 ln 2 = 5.5 nats; two patterns are
    // worth about ln 2. The untrained model is near the former.
    assert!(
        after.elbo > before.elbo + 1.0,
        "ELBO {} -> {}",
        before.elbo,
        after.elbo
    );
}

#[test]
fn manual_steps_match_train_step() {
    let x = data();
    let (mut a, mut b) = (tiny_model(3), tiny_model(3));
    let (mut opt_a, mut opt_b) = (Adam::new(&a, 1e-3).unwrap(), Adam::new(&b, 1e-3).unwrap());
    let ea = a.train_step(&mut opt_a, &x).unwrap();
    b.grads_mut().iter_mut().for_each(|g| *g = 1.0);
    b.zero_grad().unwrap();
    assert!(b.grads().iter().all(|g| *g == 0.0));
    let eb = b.elbo_grad(&x).unwrap();
    assert!(b.grads().iter().any(|g| *g != 0.0));
    opt_b.step(&mut b).unwrap();
    assert_eq!(ea, eb);
    assert_eq!(a.params(), b.params());
}

#[test]
fn save_and_load_a_file_resumes_exactly() {
    let x = data();
    let mut model = tiny_model(2);
    let mut opt = Adam::new(&model, 1e-2).unwrap();
    for _ in 0..20 {
        model.train_step(&mut opt, &x).unwrap();
    }
    model.set_metadata(b"vocabulary: a b c").unwrap();
    let path = TempPath::new("resume.vae");
    model.save(&path.0, Some(&opt)).unwrap();

    let (mut loaded, loaded_opt) = Model::load(&path.0).unwrap();
    let mut loaded_opt = loaded_opt.expect("the file holds the optimizer state");
    assert_eq!(loaded.params(), model.params());
    assert_eq!(loaded.metadata(), b"vocabulary: a b c");
    assert_eq!(loaded.data_size(), DATA);
    assert_eq!(loaded.data_shape(), vec![DATA as i64]);
    assert_eq!(loaded.latent_dim(), LATENT);
    assert_eq!(loaded.num_params(), model.num_params());
    assert_eq!(loaded_opt.steps(), 20);

    // Generator and optimizer state travel with the file: the next step of
    // the original and of the copy agree to the bit.
    let e1 = model.train_step(&mut opt, &x).unwrap();
    let e2 = loaded.train_step(&mut loaded_opt, &x).unwrap();
    assert_eq!(e1, e2);
    assert_eq!(loaded.params(), model.params());
}

#[test]
fn save_to_bytes_matches_the_file() {
    let model = tiny_model(4);
    let path = TempPath::new("bytes.vae");
    model.save(&path.0, None).unwrap();
    let bytes = model.save_bytes(None).unwrap();
    assert_eq!(bytes, std::fs::read(&path.0).unwrap());

    let (loaded, opt) = Model::load_bytes(&bytes).unwrap();
    assert!(opt.is_none(), "saved without an optimizer");
    assert_eq!(loaded.params(), model.params());
    assert!(loaded.metadata().is_empty());
}

#[test]
fn buffer_calls_agree_with_each_other() {
    let mut model = tiny_model(6);
    let x = data();
    let mut mu = vec![0.0; BATCH * LATENT];
    let mut logvar = vec![0.0; BATCH * LATENT];
    model.encode_into(&x, &mut mu, Some(&mut logvar)).unwrap();
    assert!(logvar.iter().all(|v| v.is_finite()));

    let mut decoded = vec![0.0; BATCH * DATA];
    model.decode_into(&mu, &mut decoded).unwrap();
    assert!(
        decoded.iter().all(|p| *p > 0.0 && *p < 1.0),
        "Bernoulli means are probabilities"
    );
    let mut reconstructed = vec![0.0; BATCH * DATA];
    model.reconstruct_into(&x, &mut reconstructed).unwrap();
    assert_eq!(decoded, reconstructed);

    let mut z = vec![0.0; 3 * LATENT];
    let mut samples = vec![0.0; 3 * DATA];
    model.sample_into(Some(&mut z), &mut samples).unwrap();
    let mut again = vec![0.0; 3 * DATA];
    model.decode_into(&z, &mut again).unwrap();
    assert_eq!(samples, again);

    // Log-probabilities of binary data are below 0.
    let mut logpx = vec![0.0; BATCH];
    model.iwae_into(&x, 50, &mut logpx).unwrap();
    assert!(
        logpx.iter().all(|l| l.is_finite() && *l < 0.0),
        "{:?}",
        logpx
    );
    let mut logp = vec![0.0; BATCH];
    model.log_likelihood_into(&mu, &x, &mut logp).unwrap();
    assert!(logp.iter().all(|l| l.is_finite() && *l < 0.0), "{:?}", logp);

    let mut u = vec![-1.0; 1000];
    model.random_uniform_into(&mut u).unwrap();
    assert!(u.iter().all(|v| (0.0..1.0).contains(v)));
    let mean = u.iter().map(|v| f64::from(*v)).sum::<f64>() / 1000.0;
    assert!((mean - 0.5).abs() < 0.05, "mean {}", mean);
}

#[test]
fn vec_forms_return_what_the_buffer_forms_write() {
    let mut model = tiny_model(6);
    let x = data();
    let (mu, logvar) = model.encode(&x).unwrap();
    let (mut mu2, mut logvar2) = (vec![0.0; BATCH * LATENT], vec![0.0; BATCH * LATENT]);
    model.encode_into(&x, &mut mu2, Some(&mut logvar2)).unwrap();
    assert_eq!((&mu, &logvar), (&mu2, &logvar2));

    let decoded = model.decode(&mu).unwrap();
    assert_eq!(decoded.len(), BATCH * DATA);
    assert_eq!(model.reconstruct(&x).unwrap(), decoded);
    assert_eq!(model.log_likelihood(&mu, &x).unwrap().len(), BATCH);

    model.set_seed(3).unwrap();
    let (z, samples) = model.sample(3).unwrap();
    assert_eq!((z.len(), samples.len()), (3 * LATENT, 3 * DATA));
    assert_eq!(model.decode(&z).unwrap(), samples);

    model.set_seed(4).unwrap();
    let logpx = model.iwae(&x, 10).unwrap();
    model.set_seed(4).unwrap();
    let mut logpx2 = vec![0.0; BATCH];
    model.iwae_into(&x, 10, &mut logpx2).unwrap();
    assert_eq!(logpx, logpx2);

    model.set_seed(5).unwrap();
    let u = model.random_uniform(10).unwrap();
    model.set_seed(5).unwrap();
    let mut u2 = vec![0.0; 10];
    model.random_uniform_into(&mut u2).unwrap();
    assert_eq!(u, u2);

    // The library judges the counts: no rows is a range error.
    assert_eq!(model.sample(0).unwrap_err().kind(), ErrorKind::Range);
}

#[test]
fn settings_are_checked_by_the_library() {
    let mut model = tiny_model(7);
    model.set_beta(0.5).unwrap();
    model.set_free_bits(0.1).unwrap();
    model.set_obs_logvar(0.0).unwrap();
    model
        .set_kl_anneal(KlAnneal::Linear { steps: 100 })
        .unwrap();
    model.set_kl_anneal(KlAnneal::None).unwrap();
    model.scale_grad(0.5).unwrap();
    assert_error(&model.set_beta(-1.0).unwrap_err(), ErrorKind::Range, "beta");
    assert_error(
        &model
            .set_kl_anneal(KlAnneal::Sigmoid { steps: 0 })
            .unwrap_err(),
        ErrorKind::Range,
        "steps",
    );

    let mut opt = Adam::new(&model, 1e-3).unwrap();
    opt.set_lr(2e-3).unwrap();
    opt.set_betas(0.8, 0.99, 1e-7).unwrap();
    opt.set_weight_decay(1e-4, true).unwrap();
    opt.set_clip_norm(1.0).unwrap();
    let err = opt.set_betas(1.0, 0.99, 1e-7).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Range, "{}", err);
    assert_ne!(
        err.message(),
        libvae::status_string(err.status()),
        "the optimizer's own message"
    );
}

#[test]
fn builder_errors_carry_the_message_and_stick() {
    let mut g = Graph::new().unwrap();
    let x = g.input(&[4]).unwrap();
    let err = g.dense(x, 0).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Range | ErrorKind::Shape),
        "{}",
        err
    );
    assert!(err.message().contains("units 0"), "{}", err);
    assert_eq!(err.function(), "vae_graph_dense");
    // Sticky: a valid call now fails with the first error.
    let later = g.relu(x).unwrap_err();
    assert_eq!(
        (later.status(), later.message()),
        (err.status(), err.message())
    );
    assert_eq!(later.function(), "vae_graph_relu");
    assert_eq!(g.status().unwrap_err().message(), err.message());
    // The printed line names the function once: the library's message
    // starts with "dense: ", which is this function's name.
    let message = err.message();
    assert_eq!(
        err.to_string(),
        format!(
            "vae_graph_dense: {} [VAE_ERR_RANGE]",
            message.strip_prefix("dense: ").unwrap_or(message)
        )
    );
    assert_eq!(
        later.to_string(),
        format!("vae_graph_relu: {} [VAE_ERR_RANGE]", message)
    );

    let mut g = Graph::new().unwrap();
    assert_error(&g.input(&[]).unwrap_err(), ErrorKind::Shape, "rank 0");
    let mut g = Graph::new().unwrap();
    let x = g.input(&[2, 3]).unwrap();
    assert_eq!(g.node_size(x).unwrap(), 6);
    assert_error(
        &g.node_size(other_graph_node()).unwrap_err(),
        ErrorKind::Graph,
        "does not exist",
    );
}

/// A node id from a bigger graph, unknown to a graph of one node.
fn other_graph_node() -> Node {
    let mut g = Graph::new().unwrap();
    let x = g.input(&[4]).unwrap();
    g.relu(x).unwrap()
}

#[test]
fn model_errors_come_through_the_error_buffer() {
    // The decoder reads LATENT values, not LATENT + 1.
    let err = Model::new(
        &mlp(DATA, 16),
        &mlp(LATENT, DATA),
        LATENT as i64 + 1,
        Likelihood::Bernoulli,
        1,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape, "{}", err);
    assert_ne!(
        err.message(),
        libvae::status_string(err.status()),
        "a detailed message, not the status"
    );

    let err = Adam::new(&tiny_model(1), 0.0).unwrap_err();
    assert_error(&err, ErrorKind::Range, "learning rate");

    // An optimizer sized for another model.
    let mut big = Model::new(
        &mlp(DATA, 32),
        &mlp(LATENT, DATA),
        LATENT as i64,
        Likelihood::Bernoulli,
        1,
    )
    .unwrap();
    let mut opt = Adam::new(&tiny_model(1), 1e-3).unwrap();
    assert_error(
        &opt.step(&mut big).unwrap_err(),
        ErrorKind::Shape,
        "parameters",
    );
}

#[test]
fn bad_files_are_errors() {
    let garbage = TempPath::new("garbage.vae");
    std::fs::write(&garbage.0, b"this is not a libvae model file, just text").unwrap();
    let err = Model::load(&garbage.0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format, "{}", err);
    assert_ne!(err.message(), libvae::status_string(err.status()));

    let err = Model::load_bytes(&[0u8; 100]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format, "{}", err);

    let missing = TempPath::new("does-not-exist.vae");
    assert_eq!(Model::load(&missing.0).unwrap_err().kind(), ErrorKind::Io);

    // A truncated copy of a valid file.
    let bytes = tiny_model(1).save_bytes(None).unwrap();
    let err = Model::load_bytes(&bytes[..bytes.len() / 2]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format, "{}", err);

    assert_error(
        &Model::load("bad\0path").unwrap_err(),
        ErrorKind::InvalidArg,
        "NUL",
    );
}

#[test]
fn buffer_lengths_are_checked_before_the_call() {
    let mut model = tiny_model(1);
    let mut opt = Adam::new(&model, 1e-3).unwrap();
    let x = data();
    assert_error(
        &model.elbo(&x[..DATA + 1]).unwrap_err(),
        ErrorKind::Shape,
        "x: 9 floats are not a whole number of examples of 8 floats",
    );
    assert_error(
        &model.train_step(&mut opt, &x[1..]).unwrap_err(),
        ErrorKind::Shape,
        "x: 127 floats are not a whole",
    );
    let mut mu = vec![0.0; BATCH * LATENT - 1];
    assert_error(
        &model.encode_into(&x, &mut mu, None).unwrap_err(),
        ErrorKind::Shape,
        "mu: 31 floats, not the 32 this call needs",
    );
    let mut out = vec![0.0; DATA];
    assert_error(
        &model.decode(&[0.0; 3]).unwrap_err(),
        ErrorKind::Shape,
        "z: 3 floats are not",
    );
    assert_error(
        &model.reconstruct_into(&x, &mut out).unwrap_err(),
        ErrorKind::Shape,
        "out: 8 floats, not the 128 this call needs",
    );
    let mut logp = vec![0.0; 1];
    assert_error(
        &model.iwae_into(&x, 5, &mut logp).unwrap_err(),
        ErrorKind::Shape,
        "logpx: 1 floats, not the 16",
    );
    assert_eq!(opt.steps(), 0, "no call reached the library");

    // What only the library knows: the values themselves.
    let mut bad = x.clone();
    bad[3] = 2.0;
    assert_eq!(
        model.train_step(&mut opt, &bad).unwrap_err().kind(),
        ErrorKind::Range
    );
    bad[3] = f32::NAN;
    assert_eq!(model.elbo(&bad).unwrap_err().kind(), ErrorKind::NonFinite);
    let err = model.elbo(&[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Range, "an empty batch: {}", err);
    assert_eq!(opt.steps(), 0);
}

#[test]
fn handles_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<Graph>();
    assert_send::<Model>();
    assert_send::<Adam>();

    let x = data();
    let mut model = tiny_model(9);
    let mut opt = Adam::new(&model, 1e-2).unwrap();
    let first = model.train_step(&mut opt, &x).unwrap();
    // Each thread trains its own model; one is moved there and back.
    let worker = std::thread::spawn(move || {
        let e = model.train_step(&mut opt, &x).unwrap();
        (model, opt, e)
    });
    let mut other = tiny_model(9);
    let mut other_opt = Adam::new(&other, 1e-2).unwrap();
    assert_eq!(other.train_step(&mut other_opt, &data()).unwrap(), first);
    let (model, opt, _) = worker.join().unwrap();
    assert_eq!(opt.steps(), 2);
    assert!(model.params().iter().all(|p| p.is_finite()));
}

#[test]
fn version_and_threads() {
    let v = libvae::version();
    let parts: Vec<i32> = v.split('.').map(|p| p.parse().unwrap()).collect();
    assert_eq!(parts.len(), 3, "{}", v);
    assert_eq!(
        libvae::version_number(),
        parts[0] * 10000 + parts[1] * 100 + parts[2]
    );
    match libvae::num_threads() {
        Ok(n) => assert!(n >= 1),
        Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported),
    }
    // Only the error path: the thread count is process-wide, and the other
    // tests compare results that depend on it.
    assert!(libvae::set_num_threads(0).is_err());
}

const VOCAB: i64 = 7;
const STEPS: usize = 5;
const BOS: f32 = 1.0;
const EOS: i64 = 2;

/// A sentence VAE in miniature: token ids -> embedding -> LSTM; decoder
/// reads the shifted sentence and z, starts its LSTM from z.
fn text_model() -> Model {
    let t = STEPS as i64;
    let mut enc = Graph::new().unwrap();
    let ids = enc.input(&[t]).unwrap();
    let e = enc.embedding(ids, VOCAB, 4).unwrap();
    let h = enc.lstm(e, 8, None, Some(ids), false).unwrap();
    enc.set_output(h).unwrap();

    let mut dec = Graph::new().unwrap();
    let z = dec.input(&[LATENT as i64]).unwrap();
    let x = dec.data(&[t]).unwrap();
    let prev = dec.shift_right(x, BOS).unwrap();
    let prev = dec.token_dropout(prev, 0.25, 3.0).unwrap();
    let e = dec.embedding_shared(prev, VOCAB, 4).unwrap();
    let zs = dec.repeat(z, t).unwrap();
    let inputs = dec.concat(e, zs).unwrap();
    let init = dec.dense(z, 16).unwrap();
    let init = dec.tanh(init).unwrap();
    let h = dec.lstm(inputs, 8, Some(init), Some(x), true).unwrap();
    let logits = dec.dense(h, VOCAB).unwrap();
    dec.set_output(logits).unwrap();
    Model::new(&enc, &dec, LATENT as i64, Likelihood::Categorical, 11).unwrap()
}

#[test]
fn a_text_model_trains_and_generates() {
    let mut model = text_model();
    let mut opt = Adam::new(&model, 1e-2).unwrap();
    // Sentences "3 4 5 2" and "6 4 2", padded with 0.
    let x: Vec<f32> = [3., 4., 5., 2., 0., 6., 4., 2., 0., 0.].repeat(4);
    for _ in 0..5 {
        model.train_step(&mut opt, &x).unwrap();
    }

    let n = 3;
    let z = vec![0.0; n * LATENT];
    let modes = [
        Decode::Greedy,
        Decode::Sample { temperature: 0.8 },
        Decode::TopK {
            k: 3,
            temperature: 1.0,
        },
        Decode::Beam { width: 4 },
    ];
    for mode in modes {
        let (out, steps) = model.generate(&z, mode, Some(EOS), STEPS).unwrap();
        assert_eq!(out.len(), n * STEPS);
        assert!(
            steps >= 1 && steps as usize <= STEPS,
            "{:?}: {} steps",
            mode,
            steps
        );
        for row in out.chunks(STEPS) {
            // Ids in 1..VOCAB up to the first EOS, padding after it.
            let end = row
                .iter()
                .position(|&id| id == EOS as f32)
                .map_or(STEPS, |p| p + 1);
            assert!(
                row[..end]
                    .iter()
                    .all(|&id| id >= 1.0 && id < VOCAB as f32 && id.fract() == 0.0),
                "{:?}",
                row
            );
            assert!(row[end..].iter().all(|&id| id == 0.0), "{:?}", row);
        }
    }

    let mut short = vec![0.0; n * STEPS - 1];
    assert_error(
        &model
            .generate_into(&z, Decode::Greedy, None, STEPS, &mut short)
            .unwrap_err(),
        ErrorKind::Shape,
        "out: 14 floats, not the 15 this call needs",
    );
    let err = model
        .generate(&z, Decode::Beam { width: 0 }, None, STEPS)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Range, "{}", err);
}

#[test]
fn every_status_has_a_name() {
    let err = Model::load_bytes(&[]).unwrap_err();
    assert_eq!(err.function(), "vae_model_load_from_buffer");
    assert!(err.to_string().ends_with(" [VAE_ERR_FORMAT]"), "{}", err);
    // Named ahead of the library that returns it.
    assert_eq!(libvae_sys::VAE_ERR_BUSY, -11);
}

#[test]
fn given_noise_generation_settings_and_raw_output() {
    use libvae::GenSetting;
    let mut model = tiny_model(6);
    let x = data();
    // After set_seed(s), sample's z are the eps the ELBO would draw.
    model.set_seed(5).unwrap();
    let (eps, _) = model.sample(BATCH).unwrap();
    model.set_seed(5).unwrap();
    let drawn = model.elbo(&x).unwrap();
    assert_eq!(model.elbo_noise(&x, &eps).unwrap(), drawn);
    let err = model.elbo_noise(&x, &eps[1..]).unwrap_err();
    assert_error(&err, ErrorKind::Shape, "eps");
    model.set_train_samples(2).unwrap();
    let err = model.elbo_grad_noise(&x, &eps).unwrap_err();
    assert_error(&err, ErrorKind::Shape, "eps");

    // The raw output's sigmoid is the decoded mean.
    let (z, mean) = model.sample(3).unwrap();
    let raw = model.decoder_output(&z, None).unwrap();
    assert_eq!(raw.len(), 3 * model.output_size());
    for (r, m) in raw.iter().zip(&mean) {
        assert!((1.0 / (1.0 + (-r).exp()) - m).abs() < 1e-5);
    }

    assert_eq!(model.generation(GenSetting::TopK).unwrap(), 10.0);
    model.set_generation(GenSetting::TopK, 3.0).unwrap();
    assert_eq!(model.generation(GenSetting::TopK).unwrap(), 3.0);
    let err = model.set_generation(GenSetting::Beam, 0.0).unwrap_err();
    assert_error(&err, ErrorKind::Range, "set_generation");
    // A Bernoulli model cannot generate tokens.
    let err = model.generate_tokens(&z, 4).unwrap_err();
    assert_error(&err, ErrorKind::Unsupported, "categorical");
}

#[test]
fn latent_statistics_and_a_fresh_decoder() {
    let mut model = tiny_model(8);
    let x = data();
    let mi = model.mutual_info(&x, 2).unwrap();
    assert!(mi <= (BATCH as f64).ln() + 0.1, "mi {}", mi);
    let (count, var) = model.active_units(&x, 0.0).unwrap();
    assert_eq!(var.len(), LATENT);
    assert_eq!(count as usize, var.iter().filter(|v| **v > 0.0).count());
    model.set_free_bits_per_example(true).unwrap();
    let (mu, _) = model.encode(&x).unwrap();
    model.reset_decoder(3).unwrap();
    assert_eq!(model.encode(&x).unwrap().0, mu);
}

/// The text model with its own posterior (batch-normalised mean, BN-VAE)
/// and a bag-of-words loss on z.
fn bn_vae() -> Model {
    let t = STEPS as i64;
    let mut enc = Graph::new().unwrap();
    let ids = enc.input(&[t]).unwrap();
    let e = enc.embedding(ids, VOCAB, 4).unwrap();
    let h = enc.lstm(e, 8, None, Some(ids), false).unwrap();
    let mu = enc.dense(h, LATENT as i64).unwrap();
    let mu = enc.batch_norm(mu, 0.6).unwrap();
    let logvar = enc.dense(h, LATENT as i64).unwrap();
    let q = enc.gaussian(mu, logvar).unwrap();
    enc.set_output(q).unwrap();

    let mut dec = Graph::new().unwrap();
    let z = dec.input(&[LATENT as i64]).unwrap();
    let x = dec.data(&[t]).unwrap();
    let prev = dec.shift_right(x, BOS).unwrap();
    let e = dec.embedding(prev, VOCAB, 4).unwrap();
    let zs = dec.repeat(z, t).unwrap();
    let inputs = dec.concat(e, zs).unwrap();
    let h = dec.lstm(inputs, 8, None, Some(x), true).unwrap();
    let bow = dec.dense(z, VOCAB).unwrap();
    dec.bag_of_words(bow, x, 1.0).unwrap();
    let logits = dec.dense(h, VOCAB).unwrap();
    dec.set_output(logits).unwrap();
    Model::new(&enc, &dec, LATENT as i64, Likelihood::Categorical, 4).unwrap()
}

#[test]
fn a_bn_vae_trains_and_saves_its_running_statistics() {
    let mut model = bn_vae();
    let mut opt = Adam::new(&model, 1e-2).unwrap();
    let x: Vec<f32> = [3., 4., 5., 2., 0., 6., 4., 2., 0., 0.].repeat(4);
    // Training normalises with the batch's statistics, evaluation with the
    // running ones: compare training steps with each other.
    let first = model.train_step(&mut opt, &x).unwrap().elbo;
    let mut last = first;
    for _ in 0..40 {
        last = model.train_step(&mut opt, &x).unwrap().elbo;
    }
    assert!(last > first + 2.0, "{} -> {}", first, last);
    let eps = vec![0.5; 8 * LATENT];
    let want = model.elbo_noise(&x, &eps).unwrap();
    let (mut copy, _) = Model::load_bytes(&model.save_bytes(None).unwrap()).unwrap();
    assert_eq!(copy.elbo_noise(&x, &eps).unwrap(), want);
    assert_ne!(bn_vae().elbo_noise(&x, &eps).unwrap(), want);
}

/// A model whose encoder and decoder both read a 2-float condition.
fn conditional_model() -> Model {
    let mut enc = Graph::new().unwrap();
    let x = enc.input(&[DATA as i64]).unwrap();
    let c = enc.condition(2).unwrap();
    let xc = enc.concat(x, c).unwrap();
    let h = enc.dense(xc, 8).unwrap();
    enc.set_output(h).unwrap();
    let mut dec = Graph::new().unwrap();
    let z = dec.input(&[LATENT as i64]).unwrap();
    let c = dec.condition(2).unwrap();
    let zc = dec.concat(z, c).unwrap();
    let out = dec.dense(zc, DATA as i64).unwrap();
    dec.set_output(out).unwrap();
    Model::new(&enc, &dec, LATENT as i64, Likelihood::Bernoulli, 3).unwrap()
}

#[test]
fn a_conditional_model_needs_its_condition() {
    let mut model = conditional_model();
    assert_eq!(model.condition_size(), 2);
    let x = data();
    let eps = vec![0.25; BATCH * LATENT];
    let err = model.elbo(&x).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArg, "{}", err);
    let cond: Vec<f32> = (0..BATCH * 2).map(|i| (i % 3) as f32).collect();
    model.set_condition(&cond[..2 * (BATCH - 1)]).unwrap();
    assert_eq!(model.elbo(&x).unwrap_err().kind(), ErrorKind::Shape);
    assert_eq!(
        model.set_condition(&cond[..3]).unwrap_err().kind(),
        ErrorKind::Shape
    );
    model.set_condition(&cond).unwrap();
    let a = model.elbo_noise(&x, &eps).unwrap();
    let flipped: Vec<f32> = cond.iter().map(|v| 2.0 - v).collect();
    model.set_condition(&flipped).unwrap();
    assert_ne!(model.elbo_noise(&x, &eps).unwrap(), a);

    let mut plain = tiny_model(1);
    assert_eq!(plain.condition_size(), 0);
    plain.set_condition(&[]).unwrap();
    let err = plain.set_condition(&[1.0, 0.0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArg, "{}", err);
}
