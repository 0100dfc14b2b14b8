vcl 4.1;

# The image's default: a backend on localhost:8080 (mount your own default.vcl).
backend default {
    .host = "127.0.0.1";
    .port = "8080";
}
