//! Trains a small VAE with libvae, saves it, and loads it back.
//!
//!     cargo run --offline --example train [-- MODEL_PATH]

use libvae::{Adam, Graph, Likelihood, Model};
use std::error::Error;
use std::path::PathBuf;

const DATA: usize = 8; // values per example, each 0 or 1
const LATENT: i64 = 2;
const BATCH: usize = 16;

/// input(inputs) -> dense 16 -> relu -> dense(outputs).
fn mlp(inputs: i64, outputs: i64) -> libvae::Result<Graph> {
    let mut g = Graph::new()?;
    let x = g.input(&[inputs])?;
    let h = g.dense(x, 16)?;
    let h = g.relu(h)?;
    let out = g.dense(h, outputs)?;
    g.set_output(out)?;
    Ok(g)
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("libvae {}", libvae::version());

    // The model appends the Gaussian head (mu, logvar) to the encoder's
    // output; the decoder maps z to one Bernoulli logit per value.
    let encoder = mlp(DATA as i64, 16)?;
    let decoder = mlp(LATENT, DATA as i64)?;
    let mut model = Model::new(&encoder, &decoder, LATENT, Likelihood::Bernoulli, 42)?;
    drop((encoder, decoder)); // the model keeps its own copies
    let mut opt = Adam::new(&model, 1e-2)?;

    // Two complementary patterns, alternating: something to learn.
    let x: Vec<f32> = (0..BATCH * DATA)
        .map(|i| (((i / DATA) % 2 == 0) == (i % DATA < DATA / 2)) as u8 as f32)
        .collect();

    model.set_seed(7)?;
    let before = model.elbo(&x)?;
    for step in 1..=200 {
        let e = model.train_step(&mut opt, &x)?;
        if step % 50 == 0 {
            println!(
                "step {:3}  ELBO {:8.4}  recon {:8.4}  KL {:6.4}",
                step, e.elbo, e.recon, e.kl
            );
        }
    }
    model.set_seed(7)?; // the same z draws as the first evaluation
    let after = model.elbo(&x)?;
    println!("ELBO {:.4} -> {:.4} nats", before.elbo, after.elbo);
    if after.elbo <= before.elbo {
        return Err("training did not improve the ELBO".into());
    }

    let (path, keep) = match std::env::args_os().nth(1) {
        Some(p) => (PathBuf::from(p), true),
        None => (
            std::env::temp_dir().join(format!("libvae-train-{}.vae", std::process::id())),
            false,
        ),
    };
    model.save(&path, Some(&opt))?;
    let (loaded, loaded_opt) = Model::load(&path)?;
    if loaded.params() != model.params() {
        return Err("loaded parameters differ from the saved ones".into());
    }
    let steps = loaded_opt.map_or(0, |o| o.steps());
    println!(
        "saved {} and loaded it back: {} parameters identical, optimizer at step {}",
        path.display(),
        loaded.num_params(),
        steps
    );
    if !keep {
        std::fs::remove_file(&path)?;
    }
    Ok(())
}
