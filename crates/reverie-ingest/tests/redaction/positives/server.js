'use strict';
const express = require('express');
const session = require('express-session');
const stripe = require('stripe')('sk_test_51ketFWUmqHV6YBKtIhIay5ELRLN0gczQkeZAIda8yUyOqYS1Y43lMz1T1imA9xEEHxEpncRTsAZSTGtYoOzQsGA43qkil2QE8Q');
const { App } = require('@slack/bolt');

const firebaseConfig = {
  apiKey: "AIzaSyeP271G2So9NPShYcMJKPjQ8-CqpOHTwvX",
  authDomain: "acme-prod.firebaseapp.com",
  projectId: "acme-prod",
  storageBucket: "acme-prod.appspot.com",
  messagingSenderId: "482913004712",
  appId: "1:482913004712:web:9f2c1e7b3a4d5e6f",
};

const webhookSecret = 'whsec_TWIZZiY4KvpPBHbiNIJHoAsdtsIwVhUf';
const app = express();
app.use(session({ secret: process.env.SESSION_SECRET, resave: false }));

const slack = new App({ token: process.env.SLACK_BOT_TOKEN, appToken: 'xapp-1-AGYJ5YUVN1K-4334830722495-2f999ff7d3491be6aede26155b130309698db7bf95d3e8ca47c491fc96c90681', socketMode: true });

async function orders() {
  const res = await fetch('https://api.acme-corp.test/v2/orders', {
    headers: { Authorization: 'Bearer c71be69faf4c0e593026f016e58fb15526a15e48', Accept: 'application/json' },
  });
  return res.json();
}
