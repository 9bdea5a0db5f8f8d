module libvae.example/vae

go 1.19
