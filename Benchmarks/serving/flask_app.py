"""The deployment tutorials' Flask app: a pickled scikit-learn pipeline behind POST /predict.

    python flask_app.py MODEL.pkl PORT

Flask's own server (threaded, as `app.run` starts it), JSON in, `model.predict` out.
"""
import pickle
import sys

from flask import Flask, jsonify, request

with open(sys.argv[1], "rb") as f:
    model = pickle.load(f)

app = Flask(__name__)


@app.route("/predict", methods=["POST"])
def predict():
    data = request.get_json()
    predictions = model.predict(data["instances"])
    return jsonify({"predictions": predictions.tolist()})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[2]))
